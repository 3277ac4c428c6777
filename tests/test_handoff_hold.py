"""A person takes over a web conversation, through the real Rasa, action server and web app.

The shopper is a client in the widget's place (``/api/chat``, ``/api/history``, the
stream); the agents use the console's API and WebSocket. Checked: the claim is exclusive,
a claimed conversation is closed to other agents (not to admins), the bot is silent while
held, what the shopper says reaches the agent live and stays in the transcript, the
agent's words reach the widget live and survive a reload, and after the hand-back the bot
answers again with the conversation's context.
"""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from assistant.store.db import UnitOfWork, make_engine, make_session_factory
from tests.agent_console import AgentClient, ShopperClient, create_agent, next_frame

pytestmark = pytest.mark.integration


def web_url(stack: dict[str, Any]) -> str:
    return f"http://127.0.0.1:{stack['ports'].web}"


async def test_agent_takes_over_and_hands_back(stack: dict[str, Any]) -> None:
    settings, url = stack["settings"], web_url(stack)
    shopper, holder, other, admin = ShopperClient(url), AgentClient(url), AgentClient(url), AgentClient(url)
    try:
        for agent, role in ((holder, "agent"), (other, "agent"), (admin, "admin")):
            await agent.login(*create_agent(settings, role, display_name="Sam"))
        await shopper.chat("hi")
        asked = await shopper.chat("I want to talk to a person")
        assert "our team" in " ".join(m.get("text") or "" for m in asked["messages"])
        sender = shopper.sender(settings.web_secret)
        item = await holder.queue_item(sender)
        assert (item["status"], item["reason"], item["channel"]) == ("waiting", "talk_to_human", "gateway")
        conversation = f"/conversations/{item['id']}"

        stream = await shopper.stream()
        async with holder.socket() as console:
            status, claimed = await holder.call("POST", f"{conversation}/claim")
            assert status == 200, claimed
            joined = await next_frame(stream, lambda f: f["type"] == "handoff" and f["state"] != "waiting")
            assert (joined["state"], joined["agent_name"]) == ("agent_joined", "Sam")  # the display name, not the login
            # Exclusive: a second claim fails, another agent can neither read nor write; an admin can read.
            assert (await other.call("POST", f"{conversation}/claim"))[0] == 409
            assert (await other.call("GET", conversation))[0] == 403
            assert (await other.call("POST", f"{conversation}/messages", {"text": "hi"}))[0] == 403
            status, others_queue = await other.call("GET", "/queue")
            assert status == 200 and sender not in [entry["sender"] for entry in others_queue["queue"]]
            status, seen_by_admin = await admin.call("GET", conversation)
            assert status == 200 and seen_by_admin["handoff"]["status"] == "active"

            held = await shopper.chat("are you a real person?")
            assert held == {"messages": [], "held_by_agent": True}  # the bot stays silent
            relayed = await next_frame(console, lambda f: f["type"] == "message" and f["message"]["from"] == "user")
            assert (relayed["conversation"], relayed["message"]["text"]) == (item["id"], "are you a real person?")

            status, sent = await holder.call("POST", f"{conversation}/messages", {"text": "Yes! I'm <b>Sam</b>."})
            assert status == 200, sent
            pushed = await next_frame(stream, lambda f: f["type"] == "message" and f["message"]["from"] == "agent")
            assert pushed["message"]["text"] == "Yes! I'm <b>Sam</b>." and pushed["message"]["agent_name"]

        # After a "reload": the full transcript has both sides of the hold, in order, once.
        history = await shopper.history()
        texts = [(m["from"], m["text"]) for m in history]
        assert texts.index(("user", "are you a real person?")) < texts.index(("agent", "Yes! I'm <b>Sam</b>."))
        assert len({m["id"] for m in history}) == len(history)
        before_agent = next(m["id"] for m in history if m["from"] == "user" and m["text"] == "are you a real person?")
        assert [(m["from"], m["text"]) for m in await shopper.history(after=before_agent)][:1] == [
            ("agent", "Yes! I'm <b>Sam</b>.")
        ]
        status, details = await holder.call("GET", conversation)
        assert ("user", "are you a real person?") in [(m["from"], m["text"]) for m in details["transcript"]]

        assert (await holder.call("POST", f"{conversation}/hand-back"))[0] == 200
        resumed = await next_frame(stream, lambda f: f["type"] == "handoff" and f["state"] != "waiting")
        assert resumed["state"] == "bot_resumed"
        answer = await shopper.chat("show me running shoes")
        assert "held_by_agent" not in answer
        assert any(isinstance(m.get("custom"), dict) and m["custom"].get("type") == "products" for m in answer["messages"])
        assert all(q["sender"] != sender for q in (await holder.call("GET", "/queue"))[1]["queue"])
        await stream.close()
    finally:
        for client in (shopper, holder, other, admin):
            await client.close()


async def test_closing_ends_the_handoff_and_the_bot_answers_again(stack: dict[str, Any]) -> None:
    settings, url = stack["settings"], web_url(stack)
    shopper, agent = ShopperClient(url), AgentClient(url)
    try:
        await agent.login(*create_agent(settings))
        await shopper.chat("talk to a human please")
        item = await agent.queue_item(shopper.sender(settings.web_secret))
        stream = await shopper.stream()
        assert (await agent.call("POST", f"/conversations/{item['id']}/claim"))[0] == 200
        assert (await agent.call("POST", f"/conversations/{item['id']}/close"))[0] == 200
        closed = await next_frame(stream, lambda f: f["type"] == "handoff" and f["state"] == "closed")
        assert closed == {"type": "handoff", "state": "closed"}
        notice = await next_frame(stream, lambda f: f["type"] == "message")
        assert notice["message"]["from"] == "system" and "closed this conversation" in notice["message"]["text"]
        assert (await agent.call("POST", f"/conversations/{item['id']}/messages", {"text": "late"}))[0] == 409
        assert (await shopper.chat("hello"))["messages"], "the bot did not answer after the close"
        await stream.close()
    finally:
        await shopper.close()
        await agent.close()


async def test_a_message_left_out_of_hours_is_kept_for_the_team(stack: dict[str, Any]) -> None:
    """The web app's half of the out-of-hours path (the action's half is in test_handoff_hours):
    the conversation was paused by the action; the shopper's next message becomes the left
    message, the shopper is thanked, and the bot is back for the message after."""
    settings, url = stack["settings"], web_url(stack)
    shopper = ShopperClient(url)
    try:
        await shopper.chat("hello")
        sender = shopper.sender(settings.web_secret)
        engine = make_engine(settings.database_url)
        try:
            with UnitOfWork(make_session_factory(engine)) as uow:
                uow.handoffs.create(sender_id=sender, channel="gateway", reason="talk_to_human", after_hours=True)
                uow.commit()
        finally:
            engine.dispose()
        rasa = f"http://127.0.0.1:{stack['ports'].rasa}/conversations/{sender}/tracker/events"
        async with aiohttp.ClientSession() as http, http.post(
            rasa, params={"token": settings.rasa_token}, json=[{"event": "pause"}]
        ) as paused:
            assert paused.status == 200

        answer = await shopper.chat("Please call me back about order SA-000123, my parcel is damaged.")
        [thanks] = answer["messages"]
        assert thanks["from"] == "system" and "passed your message on to our team" in thanks["text"]
        with UnitOfWork(make_session_factory(engine := make_engine(settings.database_url))) as uow:
            request = uow.handoffs.open_for_sender(sender)
            assert request is not None and request.left_message == "Please call me back about order SA-000123, my parcel is damaged."
        engine.dispose()
        assert (await shopper.chat("show me running shoes"))["messages"], "the bot did not come back"
    finally:
        await shopper.close()
