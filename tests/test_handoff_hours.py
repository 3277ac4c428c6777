"""Support hours, the wait estimate, and what the handoff actions say and do in and out of hours."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from actions.context import unit_of_work, use_settings
from actions.handoff import ActionDefaultFallback, ActionHandoff, looks_frustrated
from assistant.handoff_queue import estimate_wait_minutes, next_opening, support_open
from assistant.settings import PROJECT_ROOT, Settings
from assistant.store.models import HandoffRequest
from assistant.store_policy import load_store_policy
from tests.actions_harness import action_store, run, texts, tracker  # noqa: F401

ALWAYS = {day: "00:00-23:59" for day in ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")}


def write_policy(directory: Path, hours: dict[str, str]) -> Path:
    data = yaml.safe_load((PROJECT_ROOT / "store_policy.yml").read_text())
    data["support"]["hours"] = hours
    path = directory / "store_policy.yml"
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.fixture
def hours(action_store: Settings, tmp_path: Path) -> Iterator[object]:  # noqa: F811
    """``hours(dict)`` makes the action server's store use those support hours."""

    def use(support_hours: dict[str, str]) -> None:
        use_settings(dataclasses.replace(action_store, policy_file=write_policy(tmp_path, support_hours)))

    yield use
    use_settings(action_store)


def test_support_hours_in_the_store_time_zone(tmp_path: Path) -> None:
    policy = load_store_policy(write_policy(tmp_path, {"monday": "08:00-20:00", "wednesday": "10:00-12:00"}))
    assert policy.support_timezone == "America/New_York"
    monday_9am_new_york = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)
    assert support_open(policy, monday_9am_new_york)
    assert not support_open(policy, monday_9am_new_york + timedelta(hours=12))  # 21:00
    assert next_opening(policy, monday_9am_new_york + timedelta(hours=12)) == "Wednesday 10:00"
    assert next_opening(policy, monday_9am_new_york - timedelta(hours=2)) == "Monday 08:00"  # 07:00 the same day
    assert next_opening(load_store_policy(write_policy(tmp_path, {})), monday_9am_new_york) is None


@pytest.mark.parametrize(
    ("text", "frustrated"),
    [("THIS IS NOT WHAT I ASKED FOR", True), ("this is useless", True), ("why??? ", True),
     ("waste of my time", True), ("show me NIKE shoes", False), ("blue sofa under $600", False), ("ok", False)],
)
def test_frustration_check(text: str, frustrated: bool) -> None:
    assert looks_frustrated(text) is frustrated


async def test_in_hours_the_shopper_hears_the_queue_and_wait(action_store: Settings, hours) -> None:  # noqa: F811
    hours(ALWAYS)
    events, messages = await run(ActionHandoff(), tracker("fallback_again", sender_id="hours-open", intent="talk_to_human"))
    assert [event["event"] for event in events] == ["slot"]
    assert "about " in texts(messages) and "minute" in texts(messages)
    with unit_of_work() as uow:
        request = uow.handoffs.open_for_sender("hours-open")
        assert request is not None and not request.after_hours
        assert estimate_wait_minutes(uow.handoffs, request) >= 1


async def test_out_of_hours_the_bot_says_so_and_pauses_for_a_message(action_store: Settings, hours) -> None:  # noqa: F811
    hours({})
    events, messages = await run(ActionHandoff(), tracker("fallback_again", sender_id="hours-closed", intent="talk_to_human"))
    assert [event["event"] for event in events] == ["slot", "pause"]
    assert "isn't available right now" in texts(messages) and "leave them a message" in texts(messages)
    with unit_of_work() as uow:
        request = uow.handoffs.open_for_sender("hours-closed")
        assert isinstance(request, HandoffRequest) and request.after_hours and request.status == "waiting"


async def test_frustration_or_a_third_misunderstanding_brings_a_person(action_store: Settings, hours) -> None:  # noqa: F811
    hours(ALWAYS)
    angry = tracker("fallback_again", sender_id="angry", text="THIS BOT IS USELESS!!!", intent="nlu_fallback")
    events, messages = await run(ActionDefaultFallback(), angry)
    assert texts(messages).startswith("I'm sorry, I'm clearly not helping.")
    with unit_of_work() as uow:
        assert uow.handoffs.open_for_sender("angry").reason == "frustration"  # type: ignore[union-attr]

    third = tracker("fallback_again", sender_id="lost")
    third.events = [*third.events[:-1], *third.events[-5:-1], third.events[-1]]  # one more misunderstood turn
    _, messages = await run(ActionDefaultFallback(), third)
    assert "bringing in a person" in texts(messages)
