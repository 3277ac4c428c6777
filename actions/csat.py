"""CSAT in the conversation: ask "How did we do?" after a goodbye, store the 1-5 answer.

The agent console asks the same question when an agent hands back or closes
(:mod:`assistant.observe.csat`). An answer ("4", "4 - good", a button, "5 stars, quick and
helpful") is stored only while the question is open: after the last CSAT question and
before any answer to it, so a stray "2" meant as "the second one" never becomes a rating.
Words after the number are kept as the comment. The rating is tied to the handoff it
follows, if any, so the console shows it beside that conversation.
"""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.base import ShopAction
from actions.context import unit_of_work
from actions.shopper import remember_customer
from assistant.observe.csat import QUESTION, asks_csat, channel_name, csat_buttons

SCORE = re.compile(
    r"^\s*(?:/rate_service\S*|([1-5])\b(?:\s*(?:-\s*(?:very poor|poor|okay|good|excellent)|stars?|/\s*5|out of 5))?)[\s,.:;!-]*",
    re.I,
)
MAX_COMMENT = 1_000
NOT_ASKED = "Thanks! If you meant something else by that, tell me in words what you're looking for."


def open_question(events: list[dict[str, Any]]) -> bool:
    """Whether the latest CSAT question has no answer yet (nothing recorded after it)."""
    for event in reversed(events):
        if event.get("event") == "action" and event.get("name") == "action_record_csat":
            return False
        if asks_csat(event):
            return True
    return False


def rating_and_comment(tracker: Tracker) -> tuple[int | None, str | None]:
    """The 1-5 score (entity, else the number the message starts with) and the words after it."""
    message = tracker.latest_message or {}
    text = str(message.get("text") or "")
    score = next((str(v) for v in tracker.get_latest_entity_values("rating")), None)
    match = SCORE.match(text)
    if score is None and match and match.group(1):
        score = match.group(1)
    rating = int(score) if score and score.strip().isdigit() and 1 <= int(score) <= 5 else None
    rest = text[match.end():] if match else text
    comment = rest.strip()[:MAX_COMMENT] or None
    return rating, None if comment and comment.startswith("/") else comment


class ActionAskCsat(ShopAction):
    action_name = "action_ask_csat"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict[str, Any]]:
        dispatcher.utter_message(text=QUESTION, buttons=csat_buttons())
        return []


class ActionRecordCsat(ShopAction):
    action_name = "action_record_csat"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict[str, Any]]:
        rating, comment = rating_and_comment(tracker)
        if not open_question(tracker.events[:-1]):
            dispatcher.utter_message(text=NOT_ASKED)
            return []
        if rating is None:
            dispatcher.utter_message(text="Please pick a number from 1 (very poor) to 5 (excellent).", buttons=csat_buttons())
            return []
        with unit_of_work() as uow:
            analytics = uow.analytics
            analytics.add_rating(
                tracker.sender_id, remember_customer(uow, tracker), channel_name(tracker.get_latest_input_channel()),
                rating, comment, analytics.last_closed_handoff(tracker.sender_id),
            )
            uow.commit()
        dispatcher.utter_message(text=f"Thank you for rating us {rating} out of 5!" + (" We've noted your comment." if comment else ""))
        return []
