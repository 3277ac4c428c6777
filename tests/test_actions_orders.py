"""Order lookup, cancellation and refunds: right answers for owners, nothing for anyone else."""

from __future__ import annotations

import dataclasses
from typing import Any

from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import event, select

from actions.base import STORE_DOWN
from actions.context import unit_of_work, use_settings
from actions.orders import (
    ON_ACCOUNT_NOT_FOUND,
    ActionAskCancelConfirmation,
    ActionCancelOrder,
    ActionOrderStatus,
    ValidateOrderLookupForm,
)
from actions.returns import ActionReturnsAndRefunds
from assistant.settings import Settings
from assistant.store.models import AuditLog, BackendOutboxRow, Order
from tests.actions_harness import DOMAIN, action_store, payloads, run, slots, texts, tracker  # noqa: F401

REFUSAL = (
    "I couldn't find an order {} with that email address. Please check both (they're in your order confirmation "
    "email) and try again, or say \"talk to a person\"."
)


async def test_guest_with_matching_email_sees_real_status_and_shipment(action_store: Settings) -> None:
    events, messages = await run(ActionOrderStatus(), tracker("order_lookup", slots={"email": " ALICE@example.com "}))
    assert events == [{"event": "slot", "timestamp": None, "name": "order_number", "value": None}]
    [card] = payloads(messages, "order_status")
    order = card["order"]
    assert (order["order_number"], order["status"]) == ("SA-1003", "delayed")
    assert order["shipment"] == {
        "carrier": "UPS", "tracking_number": "1Z-SA-1003", "status": "delayed",
        "shipped_at": "2024-05-07T12:00:00+00:00", "estimated_delivery": "2024-05-11T12:00:00+00:00",
        "delivered_at": None, "delay_reason": "Severe weather is slowing deliveries.",
    }
    assert order["items"] == [{"product_id": "T001", "title": "Basecamp 2-Person Backpacking Tent", "quantity": 1}]
    assert texts(messages).splitlines() == [
        "Order SA-1003 (placed Mon 6 May, $100.00): delayed.",
        "Carrier: UPS, tracking number 1Z-SA-1003.",
        "Estimated delivery: Sat 11 May.",
        "Why it's late: Severe weather is slowing deliveries.",
    ]


async def test_guest_refusal_is_the_same_for_wrong_email_and_unknown_order(action_store: Settings) -> None:
    wrong_email = await run(ActionOrderStatus(), tracker("order_lookup", slots={"email": "mallory@example.com"}))
    unknown = await run(ActionOrderStatus(), tracker("order_lookup", slots={"order_number": "SA-9999", "email": "mallory@example.com"}))
    for (events, messages), number in ((wrong_email, "SA-1003"), (unknown, "SA-9999")):
        assert texts(messages) == REFUSAL.format(number)
        assert not payloads(messages, "order_status")
        assert slots(events) == {"order_number": None, "email": None}


async def test_signed_in_customer_gets_latest_order_and_never_anothers(action_store: Settings) -> None:
    _, latest = await run(ActionOrderStatus(), tracker("order_lookup", "alice", action_store, slots={"order_number": None, "email": None}))
    assert payloads(latest, "order_status")[0]["order"]["order_number"] == "SA-1002"

    answers = {}
    for number in ("SA-2001", "SA-9999"):  # bob's order, and one that does not exist
        events, foreign = await run(ActionOrderStatus(), tracker("order_lookup", "alice", action_store, slots={"order_number": number}))
        assert not payloads(foreign, "order_status")
        assert slots(events) == {"order_number": None, "email": None}
        answers[number] = texts(foreign).replace(number, "#")
    assert answers["SA-2001"] == answers["SA-9999"] == ON_ACCOUNT_NOT_FOUND.format(number="#")


async def test_naming_someone_elses_order_never_offers_to_cancel_ones_own(action_store: Settings) -> None:
    answers = {}
    for number in ("SA-2002", "SA-9999"):
        asked = tracker("order_lookup", "alice", action_store, slots={"order_number": number})
        events, messages = await run(ActionAskCancelConfirmation(), asked)
        assert slots(events) == {"order_number": None, "pending_cancel_order": None}
        assert not any(message.get("buttons") for message in messages)
        answers[number] = texts(messages).replace(number, "#")
    assert answers["SA-2002"] == answers["SA-9999"] == ON_ACCOUNT_NOT_FOUND.format(number="#")
    confirmed = tracker("order_lookup", "alice", action_store, slots={"pending_cancel_order": "SA-2002"})
    events, messages = await run(ActionCancelOrder(), confirmed)
    assert texts(messages) == ON_ACCOUNT_NOT_FOUND.format(number="SA-2002")
    with unit_of_work() as uow:
        assert uow.orders.by_number("SA-2002").status == "paid"


def test_guest_lookup_does_the_same_work_whether_or_not_the_order_exists(action_store: Settings) -> None:
    """Same SQL and a comparison either way, so the time taken says nothing (timing itself is not measured)."""
    with unit_of_work() as uow:
        statements: list[str] = []

        def record(*args: Any) -> None:
            statements.append(args[2])

        engine = uow.session.get_bind()
        event.listen(engine, "before_cursor_execute", record)
        assert uow.orders.find_for_guest("SA-1003", "mallory@example.com") is None
        wrong_email = list(statements)
        statements.clear()
        assert uow.orders.find_for_guest("SA-9999", "mallory@example.com") is None
        unknown = list(statements)
        statements.clear()
        assert uow.orders.find_for_guest("sa-1003", " Alice@Example.com ").order_number == "SA-1003"
        assert len(statements) > len(unknown)  # only a match loads the order
        event.remove(engine, "before_cursor_execute", record)
    assert wrong_email == unknown and len(unknown) == 1


async def test_form_asks_guests_only_and_checks_shapes(action_store: Settings) -> None:
    form = ValidateOrderLookupForm()
    dispatcher = CollectingDispatcher()
    assert await form.required_slots(["order_number", "email"], dispatcher, tracker("order_lookup"), DOMAIN) == ["order_number", "email"]
    signed_in = tracker("order_lookup", "alice", action_store)
    assert await form.required_slots(["order_number", "email"], dispatcher, signed_in, DOMAIN) == []
    assert form.validate_order_number("#sa-1003 ", dispatcher, signed_in, DOMAIN) == {"order_number": "sa-1003"}
    assert form.validate_order_number("hello", dispatcher, signed_in, DOMAIN) == {"order_number": None}
    assert form.validate_email("bob@example.com", dispatcher, signed_in, DOMAIN) == {"email": "bob@example.com"}
    assert form.validate_email("bob at example", dispatcher, signed_in, DOMAIN) == {"email": None}
    assert len(dispatcher.messages) == 2


async def test_cancel_flow_for_a_guest(action_store: Settings) -> None:
    lookup = {"order_number": "SA-3002", "email": "carol@example.com"}
    events, messages = await run(ActionAskCancelConfirmation(), tracker("order_lookup", slots=lookup))
    assert events == [{"event": "slot", "timestamp": None, "name": "pending_cancel_order", "value": "SA-3002"}]
    assert texts(messages) == "Do you want me to cancel order SA-3002 (placed Sun 5 May, $100.00)? Please answer yes or no."

    confirmed = tracker("order_lookup", slots={**lookup, "pending_cancel_order": "SA-3002"}, text="yes", intent="affirm")
    events, messages = await run(ActionCancelOrder(), confirmed)
    assert slots(events) == {"pending_cancel_order": None, "order_number": None}
    assert texts(messages) == (
        "I've asked the store to cancel order SA-3002. Until they confirm it's pending (cancellation requested), "
        "and I'll tell you here as soon as they answer."
    )
    with unit_of_work() as uow:
        order = uow.orders.by_number("SA-3002")
        assert (order.status, order.status_source, order.cancelled_at) == ("cancellation_requested", "assistant", None)
        audit = uow.session.scalars(select(AuditLog).where(AuditLog.customer_id == "carol")).one()
        assert (audit.action, audit.detail) == (
            "order_cancellation_requested", {"order_number": "SA-3002", "previous_status": "placed"})
        [request] = uow.session.scalars(select(BackendOutboxRow).where(BackendOutboxRow.order_id == "SA-3002"))
        assert (request.kind, request.payload["previous_status"], request.delivered_at) == (
            "cancellation_requested", "placed", None)
        assert [item["quantity"] for item in request.payload["items"]] == [item.quantity for item in order.items]

    # asked twice (a second "yes", or Rasa retrying the action): one request, said as such
    _, messages = await run(ActionCancelOrder(), confirmed)
    assert texts(messages).startswith("You've already asked to cancel order SA-3002.")
    with unit_of_work() as uow:
        assert len(uow.session.scalars(select(BackendOutboxRow).where(BackendOutboxRow.order_id == "SA-3002")).all()) == 1


async def test_cancel_refused_when_shipped_or_not_pending(action_store: Settings) -> None:
    asked = tracker("order_lookup", "alice", action_store, slots={"order_number": "SA-1001"})
    _, messages = await run(ActionAskCancelConfirmation(), asked)
    assert "has already left our warehouse (shipped), so I can't cancel it" in texts(messages)

    events, messages = await run(ActionCancelOrder(), tracker("order_lookup", text="yes", intent="affirm"))
    assert texts(messages).startswith("There's no cancellation waiting for a yes.")
    # a stranger who sets the pending slot still needs the matching email
    stolen = tracker("order_lookup", slots={"pending_cancel_order": "SA-2002", "email": "mallory@example.com"})
    _, messages = await run(ActionCancelOrder(), stolen)
    assert texts(messages) == REFUSAL.format("SA-2002")
    with unit_of_work() as uow:
        assert uow.orders.by_number("SA-2002").status == "paid"


async def test_returns_policy_and_the_customers_refunds(action_store: Settings) -> None:
    _, guest = await run(ActionReturnsAndRefunds(), tracker("order_lookup", text="how do returns work", intent="returns_and_refunds"))
    assert texts(guest).startswith("You can return items within 30 days of delivery.")
    _, alice = await run(ActionReturnsAndRefunds(), tracker("order_lookup", "alice", action_store, intent="returns_and_refunds"))
    assert texts(alice).splitlines()[-1] == "Order SA-1004: refund refunded, $100.00."


async def test_store_down_gets_an_honest_answer(action_store: Settings) -> None:
    use_settings(dataclasses.replace(action_store, database_url="postgresql+psycopg://nobody@127.0.0.1:1/none"))
    try:
        events, messages = await run(ActionOrderStatus(), tracker("order_lookup"))
    finally:
        use_settings(action_store)
    assert events == [] and [message["text"] for message in messages] == [STORE_DOWN]
    with unit_of_work() as uow:
        assert uow.session.scalars(select(Order)).first() is not None
