"""Handing the conversation to a person, and noticing when the bot keeps misunderstanding.

A handoff request enters the agents' queue with what an agent needs to pick it up without
asking again: the channel to answer on, the verified customer (if any), the reason
(the intent that asked for it) and the last turns of the conversation.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.base import ShopAction
from actions.context import store_policy, unit_of_work
from actions.policy import PERSON_BUTTON
from actions.shopper import known_customer

TRANSCRIPT_TURNS = 20
FALLBACKS_BEFORE_PERSON = 2


def transcript(tracker: Tracker, limit: int = TRANSCRIPT_TURNS) -> list[dict[str, Any]]:
    """The last ``limit`` messages, shopper's and bot's, oldest first."""
    turns = [
        {"from": "shopper" if event["event"] == "user" else "bot", "text": event.get("text"), "at": event.get("timestamp")}
        for event in tracker.events
        if event.get("event") in ("user", "bot") and event.get("text")
    ]
    return turns[-limit:]


class ActionHandoff(ShopAction):
    action_name = "action_handoff"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict[str, Any]]:
        reason = ((tracker.latest_message or {}).get("intent") or {}).get("name")
        channel = tracker.get_latest_input_channel() or "unknown"
        with unit_of_work() as uow:
            waiting = uow.handoffs.open_for_sender(tracker.sender_id)
            if waiting is None:
                uow.handoffs.create(
                    sender_id=tracker.sender_id, channel=channel, reason=reason,
                    customer_id=known_customer(uow, tracker), transcript=transcript(tracker),
                )
                uow.commit()
        already = "You're already in the queue. " if waiting is not None else ""
        dispatcher.utter_message(
            text=f"{already}I've asked a person from our team to join this conversation. They'll reply right here "
            f"and can see what we've talked about, so you won't need to repeat yourself. "
            f"Our team is available {store_policy().support_hours_text()}."
        )
        return [SlotSet("handoff_requested", True)]


def earlier_fallbacks(tracker: Tracker) -> int:
    """How many shopper messages just before this one the bot also answered with the fallback."""
    count, answered_by_fallback = 0, False
    events = [event for event in tracker.events if event.get("event") in ("user", "action")]
    for event in reversed(events[:-1] if events and events[-1].get("event") == "user" else events):
        if event["event"] == "action":
            if event.get("name") == "action_default_fallback":
                answered_by_fallback = True
            elif event.get("name") != "action_listen":
                return count
        elif answered_by_fallback:
            count, answered_by_fallback = count + 1, False
        else:
            return count
    return count


class ActionDefaultFallback(ShopAction):
    action_name = "action_default_fallback"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict[str, Any]]:
        if earlier_fallbacks(tracker) + 1 >= FALLBACKS_BEFORE_PERSON:
            dispatcher.utter_message(
                text="Sorry, I'm still not getting it. Would you like me to connect you with a person from our team?",
                buttons=[PERSON_BUTTON, {"title": "No, I'll rephrase", "payload": "/deny"}],
            )
        else:
            dispatcher.utter_message(
                text="Sorry, I didn't quite get that. Could you say it another way? For example \"red sneakers under $80\", "
                "\"where is my order\" or \"show my cart\". Type \"help\" to see everything I can do."
            )
        return []
