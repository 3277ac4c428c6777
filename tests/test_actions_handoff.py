"""Handoff requests with channel, customer and transcript; fallbacks that offer a person on repeat."""

from __future__ import annotations

from sqlalchemy import select

from actions.context import unit_of_work
from actions.handoff import ActionDefaultFallback, ActionHandoff
from assistant.settings import Settings
from assistant.store.models import HandoffRequest
from tests.actions_harness import action_store, run, texts, tracker  # noqa: F401
from tests.test_handoff_hours import ALWAYS, hours  # noqa: F401


async def test_handoff_queues_one_request_with_context(action_store: Settings, hours) -> None:
    hours(ALWAYS)  # in support hours, whatever the time the suite runs
    asking = tracker("fallback_again", "bob", action_store, sender_id="bob-chat", text="I want a person", intent="talk_to_human")
    events, messages = await run(ActionHandoff(), asking)
    assert events == [{"event": "slot", "timestamp": None, "name": "handoff_requested", "value": True}]
    assert texts(messages).startswith("I've asked a person from our team to join this conversation.")
    again, messages = await run(ActionHandoff(), asking)
    assert texts(messages).startswith("You're already in the queue.")

    with unit_of_work() as uow:
        [request] = uow.session.scalars(select(HandoffRequest).where(HandoffRequest.sender_id == "bob-chat")).all()
    assert (request.status, request.channel, request.customer_id, request.reason) == ("waiting", "gateway", "bob", "talk_to_human")
    assert [turn["text"] for turn in request.transcript] == [
        "hi", "Hi! I'm the shop assistant.", "zzkx frob", "Sorry, I didn't quite get that.", "blorp the quux",
    ]
    assert [turn["from"] for turn in request.transcript[:2]] == ["shopper", "bot"]


async def test_first_fallback_asks_to_rephrase_the_second_offers_a_person(action_store: Settings) -> None:
    first = tracker("fallback_again")
    first.events = first.events[:6]  # only "zzkx frob" was misunderstood so far
    _, messages = await run(ActionDefaultFallback(), first)
    assert texts(messages).startswith("Sorry, I didn't quite get that. Could you say it another way?")
    assert messages[0]["buttons"] == []

    _, messages = await run(ActionDefaultFallback(), tracker("fallback_again"))
    assert texts(messages) == "Sorry, I'm still not getting it. Would you like me to connect you with a person from our team?"
    assert [button["payload"] for button in messages[0]["buttons"]] == ["/talk_to_human", "/deny"]
