"""What a shopper does with the widget, for the browser tests: open it, ask, wait for the answer."""

from __future__ import annotations

from playwright.async_api import Page, expect

BOT = '[data-testid="chat-message"][data-from="bot"]'
USER = '[data-testid="chat-message"][data-from="user"]'
SYSTEM = '[data-testid="chat-message"][data-from="system"]'


async def open_chat(page: Page) -> None:
    await page.get_by_test_id("chat-launcher").click()
    await expect(page.get_by_test_id("chat-input")).to_be_focused()


async def ask(page: Page, text: str) -> None:
    """Type ``text``, send it with Enter, and wait until the bot's answer is on the page."""
    before = await page.locator(BOT).count()
    await page.get_by_test_id("chat-input").fill(text)
    await page.get_by_test_id("chat-input").press("Enter")
    await wait_for_reply(page, before)


async def wait_for_reply(page: Page, bot_messages_before: int) -> None:
    await page.wait_for_function(
        "([selector, count]) => document.querySelectorAll(selector).length > count", arg=[BOT, bot_messages_before]
    )
    await expect(page.get_by_test_id("typing-indicator")).to_be_hidden()
