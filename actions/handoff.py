"""Handing the conversation to a person, and noticing when the bot keeps misunderstanding.

A handoff request enters the agents' queue with what an agent needs to pick it up without
asking again: the channel to answer on, the verified customer (if any), the reason and
the last turns of the conversation. The shopper is told what happens next and roughly
how long it takes (:mod:`assistant.handoff_queue`). Outside support hours nobody can
answer now, so the bot says so and pauses the conversation: the shopper's next message
is kept as a message for the team (the web app's watcher records it, thanks the shopper
and hands the conversation back to the bot).

Besides asking for a person, a handoff starts by itself when the bot has misunderstood
several messages in a row, or when a misunderstood message shows plain frustration
(shouting in capitals, "this is useless", "!!!"): asking such a shopper to rephrase again
only makes things worse.
"""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import ConversationPaused, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.base import ShopAction
from actions.context import settings, store_policy, unit_of_work
from actions.fallback import offer_likely_intents, recover
from actions.policy import PERSON_BUTTON
from actions.shopper import remember_customer
from assistant.backend.outbox import tell_store
from assistant.handoff_queue import estimate_wait_minutes, next_opening, support_open
from assistant.observe.metrics import HANDOFFS, NLU_FALLBACKS, handoff_reason

TRANSCRIPT_TURNS = 20
FALLBACKS_BEFORE_OFFER = 2
FALLBACKS_BEFORE_PERSON = 3
FRUSTRATED_WORDS = re.compile(
    r"\b(useless|pointless|stupid|dumb|idiot\w*|ridiculous|waste of (my )?time|wtf|not helping|"
    r"not helpful|doesn'?t help|can'?t you understand|you don'?t understand|so annoying|hopeless)\b",
    re.IGNORECASE,
)


def handoff_transcript(tracker: Tracker, limit: int = TRANSCRIPT_TURNS) -> list[dict[str, Any]]:
    """The last ``limit`` messages, shopper's and bot's, oldest first."""
    turns = [
        {"from": "shopper" if event["event"] == "user" else "bot", "text": event.get("text"), "at": event.get("timestamp")}
        for event in tracker.events
        if event.get("event") in ("user", "bot") and event.get("text")
    ]
    return turns[-limit:]


def looks_frustrated(text: str) -> bool:
    """Shouting (mostly capitals over several words), angry words, or a run of !!! / ???."""
    letters = [char for char in text if char.isalpha()]
    shouting = len(re.findall(r"\b[A-Z]{2,}\b", text)) >= 3 and sum(c.isupper() for c in letters) >= 0.7 * len(letters)
    return shouting or bool(FRUSTRATED_WORDS.search(text)) or bool(re.search(r"[!?]{3,}", text))


def wait_phrase(minutes: int, ahead: int) -> str:
    people = "nobody is ahead of you" if ahead == 0 else f"{ahead} {'person is' if ahead == 1 else 'people are'} ahead of you"
    return f"Right now {people}, so it should take about {minutes} minute{'s' if minutes != 1 else ''}."


def request_person(dispatcher: CollectingDispatcher, tracker: Tracker, reason: str | None) -> list[dict[str, Any]]:
    """Queue (once) a handoff for this conversation and tell the shopper what happens next."""
    policy = store_policy()
    open_now = support_open(policy)
    channel = tracker.get_latest_input_channel() or "unknown"
    with unit_of_work() as uow:
        request = existing = uow.handoffs.open_for_sender(tracker.sender_id)
        if request is None:
            request = uow.handoffs.create(
                sender_id=tracker.sender_id, channel=channel, reason=reason, after_hours=not open_now,
                customer_id=remember_customer(uow, tracker), transcript=handoff_transcript(tracker),
            )
            tell_store(uow, settings(), "handoff_opened", {
                "handoff_id": request.id, "customer_id": request.customer_id, "channel": channel,
                "reason": reason, "after_hours": not open_now,
            }, key=f"handoff_opened:{request.id}")
            uow.commit()
            HANDOFFS.labels(reason=handoff_reason(reason)).inc()
        ahead, minutes = uow.handoffs.waiting_ahead(request), estimate_wait_minutes(uow.handoffs, request)
    if not open_now:
        opening = next_opening(policy)
        back = f"They're back {opening} ({policy.support_timezone} time)." if opening else ""
        dispatcher.utter_message(
            text=f"Our support team isn't available right now (hours: {policy.support_hours_text()}). {back} "
            "If you'd like to leave them a message, write it now: they'll see it with our conversation "
            "and answer right here."
        )
        return [SlotSet("handoff_requested", True), ConversationPaused()]
    already = "You're already in the queue. " if existing is not None else ""
    dispatcher.utter_message(
        text=f"{already}I've asked a person from our team to join this conversation. They'll reply right here "
        f"and can see what we've talked about, so you won't need to repeat yourself. {wait_phrase(minutes, ahead)} "
        "Until they join, I'm still here if you want to keep browsing."
    )
    return [SlotSet("handoff_requested", True)]


class ActionHandoff(ShopAction):
    action_name = "action_handoff"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict[str, Any]]:
        return request_person(dispatcher, tracker, ((tracker.latest_message or {}).get("intent") or {}).get("name"))


def earlier_fallbacks(tracker: Tracker) -> int:
    """How many shopper messages just before this one the bot also misunderstood.

    A fallback that recovered (searched the words, or answered against the product in
    focus: :mod:`actions.fallback`) set slots, and does not count as a misunderstanding.
    """
    count, answered_by_fallback, set_slots = 0, False, False
    events = [event for event in tracker.events if event.get("event") in ("user", "action", "slot")]
    for event in reversed(events[:-1] if events and events[-1].get("event") == "user" else events):
        if event["event"] == "slot":
            set_slots = True
        elif event["event"] == "action":
            if event.get("name") == "action_default_fallback" and not set_slots:
                answered_by_fallback = True
            elif event.get("name") != "action_listen":
                return count
            set_slots = False
        elif answered_by_fallback:
            count, answered_by_fallback = count + 1, False
        else:
            return count
    return count


class ActionDefaultFallback(ShopAction):
    action_name = "action_default_fallback"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict[str, Any]]:
        NLU_FALLBACKS.inc()
        text = str((tracker.latest_message or {}).get("text") or "")
        if looks_frustrated(text):
            dispatcher.utter_message(text="I'm sorry, I'm clearly not helping. Let me get you a person from our team.")
            return request_person(dispatcher, tracker, "frustration")
        recovered = recover(dispatcher, tracker)  # a product need is searched, never handed off
        if recovered is not None:
            return recovered
        misunderstood = earlier_fallbacks(tracker) + 1
        if misunderstood >= FALLBACKS_BEFORE_PERSON:
            dispatcher.utter_message(text="Sorry, I keep misunderstanding you, so I'm bringing in a person from our team.")
            return request_person(dispatcher, tracker, "repeated misunderstanding")
        if misunderstood >= FALLBACKS_BEFORE_OFFER:
            dispatcher.utter_message(
                text="Sorry, I'm still not getting it. Would you like me to connect you with a person from our team?",
                buttons=[PERSON_BUTTON, {"title": "No, I'll rephrase", "payload": "/deny"}],
            )
        else:
            offer_likely_intents(dispatcher, tracker)
        return []
