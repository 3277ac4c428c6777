"""An agent's hold survives a restart of every process of the production stack (issue #11.6).

A shopper searches, asks for a person, an agent claims the conversation; then every
process (both replicas of Rasa, the action server and the web app, and HAProxy) is stopped
and started again, as after a host's reboot. Nothing of it lived in a process: the
conversation (history and slots) is in the SQL tracker store, the pause in the tracker,
the hold in the customer store, the agent's session in PostgreSQL. So afterwards the
history reads the same, the slots are the same, the shopper's next message gets no bot
reply, the agent (not signed in again) sees it and answers, the answer reaches the
shopper's widget live, and once the agent hands back the bot pages the earlier search.
"""

from __future__ import annotations

import asyncio
import json
import urllib.parse
import urllib.request
from typing import Any

import pytest

from assistant.production_plan import ProductionStack
from assistant.rasa_conversation import product_ids
from assistant.settings import Settings
from tests.agent_console import AgentClient, ShopperClient, create_agent, next_frame
from tests.production_fixtures import warm

pytestmark = pytest.mark.production


def slots(stack: ProductionStack, settings: Settings, sender: str) -> dict[str, Any]:
    """The conversation's slots from Rasa's HTTP API, through the balancer."""
    url = (f"http://127.0.0.1:{stack.fronts.rasa}/conversations/{urllib.parse.quote(sender)}/tracker?"
           + urllib.parse.urlencode({"token": settings.rasa_token, "include_events": "NONE"}))
    with urllib.request.urlopen(url, timeout=120) as response:
        return dict(json.loads(response.read())["slots"])


async def test_an_agents_hold_survives_a_restart_of_every_process(
    production_stack: ProductionStack, production_settings: Settings,
) -> None:
    stack, settings = production_stack, production_settings
    shopper, agent = ShopperClient(stack.url), AgentClient(stack.url)
    try:
        await agent.login(*create_agent(settings, display_name="Robin"))
        first = product_ids((await shopper.chat("show me tents"))["messages"])
        assert first, "the search found no tents"
        await shopper.chat("I want to talk to a person")
        sender = shopper.sender(settings.web_secret)
        conversation = f"/conversations/{(await agent.queue_item(sender))['id']}"
        status, claimed = await agent.call("POST", f"{conversation}/claim")
        assert status == 200, claimed
        history, remembered = await shopper.history(), await asyncio.to_thread(slots, stack, settings, sender)

        await asyncio.to_thread(stack.restart_all)
        await asyncio.to_thread(warm, stack, settings, 2)  # searches too: the action servers load the index lazily

        assert await shopper.history() == history
        assert await asyncio.to_thread(slots, stack, settings, sender) == remembered
        stream = await shopper.stream()
        held = await shopper.chat("are you still there?")
        assert held == {"messages": [], "held_by_agent": True}  # the pause outlived every process
        status, details = await agent.call("GET", conversation)  # the agent's session did too
        assert status == 200 and details["handoff"]["status"] == "active"
        assert ("user", "are you still there?") in [(m["from"], m["text"]) for m in details["transcript"]]
        status, sent = await agent.call("POST", f"{conversation}/messages", {"text": "Yes, Robin here."})
        assert status == 200, sent
        pushed = await next_frame(stream, lambda f: f["type"] == "message" and f["message"]["from"] == "agent")
        assert pushed["message"]["text"] == "Yes, Robin here."
        await stream.close()
        said = [(m["from"], m["text"]) for m in await shopper.history()]
        assert said.index(("user", "are you still there?")) < said.index(("agent", "Yes, Robin here."))

        assert (await agent.call("POST", f"{conversation}/hand-back"))[0] == 200
        more = product_ids((await shopper.chat("show more"))["messages"])
        assert more and not set(more) & set(first), "after the hand-back, show more did not page the earlier search"
    finally:
        await shopper.close()
        await agent.close()
