"""A shopper asks for a person, an agent takes over in the console, then hands back: two real browsers.

The shopper uses the widget on the storefront; the agent signs in to the console in a
second browser context. Both sides see each other's messages live (WebSockets), the bot
stays silent while the agent holds the conversation and answers again after the hand-back.
"""

from __future__ import annotations

from typing import Any

from playwright.async_api import expect

from assistant.web.sessions import SESSION_COOKIE, read_session, sender_for
from tests.agent_console import create_agent
from tests.browser.conftest import PageFactory
from tests.browser.test_widget import BOT, ask, open_chat

AGENT_MESSAGE = '[data-testid="chat-message"][data-from="agent"]'
SYSTEM_MESSAGE = '[data-testid="chat-message"][data-from="system"]'


async def test_shopper_asks_for_a_person_agent_claims_talks_and_hands_back(
    new_page: PageFactory, web_url: str, stack: dict[str, Any], screenshot: Any
) -> None:
    settings = stack["settings"]
    shopper = await new_page("shopper")
    await shopper.goto(web_url + "/")
    await open_chat(shopper)
    await ask(shopper, "I want to talk to a person")
    await expect(shopper.locator(BOT).last).to_contain_text("our team")
    cookie = next(c for c in await shopper.context.cookies() if c["name"] == SESSION_COOKIE)
    session_id = read_session(cookie["value"], settings.web_secret)
    assert session_id is not None
    sender = sender_for(session_id, None, settings.web_secret)

    username, password = create_agent(settings, display_name="Sam Rivera")
    console = await new_page("console", viewport={"width": 1400, "height": 900})
    await console.goto(web_url + "/agent")
    await console.get_by_test_id("login-username").fill(username)
    await console.get_by_test_id("login-password").fill(password)
    await console.get_by_test_id("login-submit").click()
    row = console.locator(f'[data-testid="queue-item"][data-sender="{sender}"]')
    await row.click()
    transcript = console.get_by_test_id("transcript")
    await expect(transcript.locator('[data-from="user"]').last).to_contain_text("I want to talk to a person")
    await console.get_by_test_id("claim-button").click()
    await expect(console.get_by_test_id("agent-input")).to_be_visible()
    await expect(console.get_by_test_id("customer-profile")).to_contain_text("Guest shopper")
    # Shoppers see the agent's display name, never the login name.
    await expect(shopper.locator(SYSTEM_MESSAGE).last).to_contain_text("Sam Rivera from our team has joined")
    await expect(shopper.locator(SYSTEM_MESSAGE).last).not_to_contain_text(username)

    bot_messages = await shopper.locator(BOT).count()
    await shopper.get_by_test_id("chat-input").fill("Do you have the blue one in size 10?")
    await shopper.get_by_test_id("chat-input").press("Enter")
    await expect(transcript.locator('[data-testid="transcript-message"][data-from="user"]').last).to_contain_text(
        "Do you have the blue one in size 10?"
    )
    await console.get_by_test_id("agent-input").fill("Yes, <b>size 10</b> is in stock. Anything else?")
    await console.get_by_test_id("agent-send").click()
    await expect(shopper.locator(AGENT_MESSAGE).last).to_contain_text("Yes, <b>size 10</b> is in stock.")
    assert await shopper.locator(BOT).count() == bot_messages  # the bot stayed silent during the hold
    await screenshot(shopper, "held-by-agent")
    await screenshot(console, "agent-replied")

    await console.get_by_test_id("hand-back").click()
    await expect(shopper.locator(SYSTEM_MESSAGE).filter(has_text="You're back with the shop assistant")).to_be_visible()
    await expect(shopper.locator(SYSTEM_MESSAGE).last).to_contain_text("How did we do?")  # CSAT follows (issue #14)
    await ask(shopper, "show me running shoes")
    await expect(shopper.get_by_test_id("product-card").first).to_be_visible()
    await expect(console.get_by_test_id("agent-input")).to_be_hidden()
