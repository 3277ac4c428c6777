"""Returns in chat: only delivered orders the shopper owns, items/reason/refund method checked,
a numbered request sent to the store, its status answered from the store's updates; and the
store's answers told once in the conversation that asked."""

from __future__ import annotations

import re

from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from actions.context import unit_of_work
from actions.returns import ActionReturnsAndRefunds, ActionStartReturn, ActionSubmitReturn, ValidateReturnForm
from actions.store_updates import ActionStoreUpdate
from assistant.settings import Settings
from assistant.store.models import BackendOutboxRow, ReturnRequest, utcnow
from assistant.store.repositories import Recipient
from tests.actions_harness import DOMAIN, action_store, run, slots, texts, tracker  # noqa: F401


def validate(method: str, value: str, **changes: object) -> tuple[dict[str, object], str]:
    dispatcher = CollectingDispatcher()
    result = getattr(ValidateReturnForm(), f"validate_{method}")(value, dispatcher, tracker("order_lookup", **changes), DOMAIN)
    return result, texts(dispatcher.messages)


async def test_a_delivered_order_is_returned_with_a_number_and_sent_to_the_store(action_store: Settings) -> None:
    bob = {"customer": "bob", "settings": action_store, "sender_id": "bob-returns"}
    events, messages = await run(ActionStartReturn(), tracker("order_lookup", slots={"order_number": "SA-2001"}, **bob))
    assert slots(events)["pending_return_order"] == "SA-2001"
    assert "1. " in texts(messages) and "Insulated Camping Mug" in texts(messages)

    pending = {"slots": {"pending_return_order": "SA-2001"}, **bob}
    assert validate("return_items", "the camping mug", **pending)[0] == {"return_items": ["Insulated Camping Mug"]}
    assert len(validate("return_items", "everything", **pending)[0]["return_items"]) == 3  # type: ignore[arg-type]
    assert validate("return_items", "the purple unicorn", **pending) == (
        {"return_items": None}, "I couldn't tell which items you mean. Type their names or numbers from the list, "
                                "or \"everything\".")
    assert validate("return_reason", "  too   small ", **pending)[0] == {"return_reason": "too small"}
    assert validate("return_reason", "x", **pending)[0] == {"return_reason": None}
    for said, method in (("store credit", "store_credit"), ("refund to my original payment", "original_payment"),
                         ("exchange it", "exchange"), ("a banana", None)):
        assert validate("refund_method", said, **pending)[0] == {"refund_method": method}

    filled = {"pending_return_order": "SA-2001", "return_items": ["Insulated Camping Mug"],
              "return_reason": "too small", "refund_method": "store_credit"}
    events, messages = await run(ActionSubmitReturn(), tracker("order_lookup", slots=filled, **bob))
    number = re.search(r"RT-[0-9A-F]{10}", texts(messages)).group(0)  # type: ignore[union-attr]
    assert texts(messages).startswith(f"Your return request is {number} (Insulated Camping Mug; store credit).")
    assert slots(events)["pending_return_order"] is None
    with unit_of_work() as uow:
        request = uow.session.scalars(select(ReturnRequest).where(ReturnRequest.number == number)).one()
        assert (request.status, request.reason, request.refund_method) == ("requested", "too small", "store_credit")
        [sent] = uow.session.scalars(select(BackendOutboxRow).where(BackendOutboxRow.idempotency_key
                                                                     == f"return_requested:{number}"))
        assert (sent.order_id, sent.payload["reason"], [i["product_id"] for i in sent.payload["items"]]) == (
            "SA-2001", "too small", ["T007"])

    # "status of my return": from what the store said last
    _, messages = await run(ActionReturnsAndRefunds(), tracker("order_lookup", text="status of my return", **bob))
    assert f"Return {number} (order SA-2001, store credit): requested" in texts(messages)
    with unit_of_work() as uow:
        uow.returns.apply_store_status(uow.returns.by_number(number), "approved", utcnow(), "Label emailed.")
        uow.commit()
    guest = tracker("order_lookup", text=f"where is my return {number.lower()}?", sender_id="someone")
    _, messages = await run(ActionReturnsAndRefunds(), guest)
    assert f"Return {number} (order SA-2001, store credit): approved since" in texts(messages)
    assert texts(messages).endswith("Label emailed.")


async def test_only_delivered_orders_of_the_shopper_can_be_returned(action_store: Settings) -> None:
    events, messages = await run(ActionStartReturn(), tracker("order_lookup", "alice", action_store,
                                                              slots={"order_number": "SA-1002"}))
    assert slots(events)["pending_return_order"] is None
    assert texts(messages).startswith("Order SA-1002 is paid, not delivered yet")
    events, messages = await run(ActionStartReturn(), tracker("order_lookup", "alice", action_store,
                                                              slots={"order_number": "SA-2001"}))  # bob's
    assert slots(events)["pending_return_order"] is None
    assert texts(messages).startswith("I couldn't find an order SA-2001 on your account.")
    # a stranger who sets the slot by hand still has to own the order
    filled = {"pending_return_order": "SA-4001", "return_items": ["Insulated Camping Mug"], "return_reason": "meh",
              "refund_method": "exchange", "email": "mallory@example.com"}
    _, messages = await run(ActionSubmitReturn(), tracker("order_lookup", slots=filled))
    assert texts(messages).startswith("I couldn't find an order SA-4001")
    with unit_of_work() as uow:
        assert uow.returns.for_customer("erin") == []


async def test_the_stores_answers_are_told_once_in_their_conversation(action_store: Settings) -> None:
    with unit_of_work() as uow:
        uow.notices.add(Recipient("told-here", "gateway"), "The store has confirmed: order SA-1 is cancelled.", "SA-1")
        uow.notices.add(Recipient("elsewhere", "gateway"), "Not yours.", "SA-2")
        uow.commit()
    _, messages = await run(ActionStoreUpdate(), tracker("order_lookup", sender_id="told-here"))
    assert texts(messages) == "The store has confirmed: order SA-1 is cancelled."
    _, again = await run(ActionStoreUpdate(), tracker("order_lookup", sender_id="told-here"))
    assert again == []


async def test_a_cancellation_while_the_store_is_down_is_said_to_be_saved(action_store: Settings) -> None:
    from datetime import timedelta

    from actions.orders import BACKLOG_NOTE, ActionCancelOrder
    from assistant.backend.outbox import enqueue

    with unit_of_work() as uow:  # an earlier request the store has not taken for a while
        enqueue(uow, "cart_changed", {"items": []}, key="stuck-cart-change")
        stuck = uow.session.scalars(select(BackendOutboxRow).where(BackendOutboxRow.idempotency_key
                                                                    == "stuck-cart-change")).one()
        stuck.created_at = utcnow() - timedelta(minutes=5)
        stuck.last_error = "store backend unreachable: ClientConnectorError"
        uow.commit()
    bob = tracker("order_lookup", "bob", action_store, slots={"pending_cancel_order": "SA-2002"}, text="yes",
                  intent="affirm")
    _, messages = await run(ActionCancelOrder(), bob)
    assert texts(messages).startswith("I've asked the store to cancel order SA-2002.")
    assert texts(messages).endswith(BACKLOG_NOTE.strip())
    with unit_of_work() as uow:
        order = uow.orders.by_number("SA-2002")
        assert order.status == "cancellation_requested"
        order.status, order.status_source = "paid", None  # as the other order tests expect it
        for row in uow.session.scalars(select(BackendOutboxRow).where(BackendOutboxRow.order_id == "SA-2002")):
            uow.session.delete(row)
        uow.session.delete(uow.session.get(BackendOutboxRow, stuck.id))
        uow.commit()
