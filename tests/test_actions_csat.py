"""CSAT in the conversation (issue #14): asked with five buttons, stored only while the question is open."""

from __future__ import annotations

from typing import Any

import pytest
from rasa_sdk import Tracker
from sqlalchemy import select

from actions.context import unit_of_work
from actions.csat import ActionAskCsat, ActionRecordCsat
from assistant.observe.csat import QUESTION, csat_buttons
from assistant.settings import Settings
from assistant.store.models import CsatRating
from tests.actions_harness import action_store, run  # noqa: F401


def answered(sender: str, text: str, asked: bool = True, rating: str | None = None) -> Tracker:
    """A conversation whose last turn is ``text`` (intent rate_service), after the question or not."""
    question = {"event": "bot", "text": QUESTION, "data": {"buttons": csat_buttons()}, "metadata": {"from": "system"}}
    entities = [{"entity": "rating", "value": rating}] if rating else []
    user = {"event": "user", "text": text, "input_channel": "telegram",
            "parse_data": {"intent": {"name": "rate_service", "confidence": 0.9}, "entities": entities}}
    events: list[dict[str, Any]] = [{"event": "action", "name": "action_listen"}]
    events += [question] if asked else [{"event": "bot", "text": "Here's what I found"}]
    events += [user]
    return Tracker(sender, {}, {"text": text, "intent": user["parse_data"]["intent"], "entities": entities, "metadata": {}},
                   events, False, None, {}, "action_listen")


def ratings(sender: str) -> list[tuple[int, str | None, str]]:
    with unit_of_work() as uow:
        rows = uow.session.scalars(select(CsatRating).where(CsatRating.sender_id == sender))
        return [(row.rating, row.comment, row.channel) for row in rows]


async def test_the_question_offers_five_buttons(action_store: Settings) -> None:
    _, [message] = await run(ActionAskCsat(), answered("csat-ask", "bye", asked=False))
    assert message["text"] == QUESTION
    assert [b["title"] for b in message["buttons"]] == ["1 - very poor", "2 - poor", "3 - okay", "4 - good", "5 - excellent"]
    assert message["buttons"][3]["payload"] == '/rate_service{"rating":"4"}'


@pytest.mark.parametrize(
    ("text", "entity", "stored"),
    [
        ('/rate_service{"rating":"4"}', "4", (4, None)),  # the widget's button
        ("4 - good", "4", (4, None)),  # a text channel's numbered option, typed
        ("5 stars, quick and helpful", "5", (5, "quick and helpful")),
        ("2 took too long", None, (2, "took too long")),  # no entity: the leading number
    ],
)
async def test_an_answer_is_stored_with_its_comment(action_store: Settings, text: str, entity: str | None,
                                                     stored: tuple[int, str | None]) -> None:
    sender = f"csat-{abs(hash(text))}"
    _, messages = await run(ActionRecordCsat(), answered(sender, text, rating=entity))
    assert ratings(sender) == [(*stored, "telegram")]
    assert messages[0]["text"].startswith(f"Thank you for rating us {stored[0]} out of 5!")


async def test_a_number_without_the_question_is_no_rating(action_store: Settings) -> None:
    _, messages = await run(ActionRecordCsat(), answered("csat-stray", "2", asked=False, rating="2"))
    assert ratings("csat-stray") == []
    assert "something else" in messages[0]["text"]


async def test_an_answered_question_is_closed(action_store: Settings) -> None:
    tracker = answered("csat-twice", "5", rating="5")
    tracker.events[-1:-1] = [{"event": "action", "name": "action_record_csat"}, {"event": "bot", "text": "Thank you"}]
    await run(ActionRecordCsat(), tracker)
    assert ratings("csat-twice") == []
