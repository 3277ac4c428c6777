"""Order status, cancellation, returns: never show or change an order for someone who does not own it.

Who owns an order: a signed-in customer (verified token in the message metadata) owns
their orders; a guest proves ownership with the order number AND the order's e-mail.
A guest whose pair does not match, and a signed-in customer who names an order that is not
theirs, get the same sentence whether or not the order exists.
"""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import FormValidationAction, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.base import ShopAction
from actions.context import store_policy, unit_of_work, verified_customer
from actions.replies import day, money, order_payload, order_status_text
from assistant.backend.outbox import enqueue, store_backlog
from assistant.store.db import UnitOfWork
from assistant.store.models import CANCELLATION_REQUESTED, Order, utcnow
from assistant.store.repositories import normalize_order_number
from assistant.store.repositories.orders import SHIPPED_STATUSES

ORDER_NUMBER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{2,31}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
NOT_FOUND = (
    "I couldn't find an order {number} with that email address. Please check both (they're in your "
    "order confirmation email) and try again, or say \"talk to a person\"."
)
ON_ACCOUNT_NOT_FOUND = (
    "I couldn't find an order {number} on your account. Please check the number (it's in your order "
    "confirmation email), or say \"talk to a person\"."
)


class ValidateOrderLookupForm(FormValidationAction):
    """Ask for order number and e-mail only from guests; check their shape, not their truth."""

    def name(self) -> str:
        return "validate_order_lookup_form"

    async def required_slots(
        self, domain_slots: list[str], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[str]:
        return [] if verified_customer(tracker) else domain_slots

    def validate_order_number(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        number = normalize_order_number(str(value or ""))
        if ORDER_NUMBER.match(number) and any(char.isdigit() for char in number):
            return {"order_number": number}
        dispatcher.utter_message(text="That doesn't look like an order number. It's in your confirmation email, e.g. SA-123456.")
        return {"order_number": None}

    def validate_email(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        email = str(value or "").strip()
        if EMAIL.match(email):
            return {"email": email}
        dispatcher.utter_message(text="That doesn't look like an email address. Could you type it again?")
        return {"email": None}


def owned_order(uow: UnitOfWork, tracker: Tracker, number: str | None) -> Order | None:
    """The order the shopper may see: named by number, or a signed-in customer's latest.

    A number that is someone else's order gives ``None`` exactly like a number that does not
    exist (for a signed-in customer the lookup is restricted to their own orders, for a
    guest the e-mail must match), so the reply never tells a prober which orders exist.
    """
    customer_id = verified_customer(tracker)
    if customer_id is None:
        email = tracker.get_slot("email")
        return uow.orders.find_for_guest(number, email) if number and email else None
    if number:
        return uow.orders.by_number_for_customer(number, customer_id)
    return uow.orders.latest_for_customer(customer_id)


def not_found_text(tracker: Tracker, number: str | None) -> str:
    """The one refusal for an order that is not the shopper's, whether or not it exists."""
    if verified_customer(tracker) is None:
        return NOT_FOUND.format(number=number or "")
    if number:
        return ON_ACCOUNT_NOT_FOUND.format(number=number)
    return "I can't find any orders on your account yet."


class ActionOrderStatus(ShopAction):
    action_name = "action_order_status"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict[str, Any]]:
        number = tracker.get_slot("order_number")
        with unit_of_work() as uow:
            order = owned_order(uow, tracker, number)
            if order is None:
                dispatcher.utter_message(text=not_found_text(tracker, number))
                return [SlotSet("order_number", None), SlotSet("email", None)]
            dispatcher.utter_message(text=order_status_text(order), json_message={"type": "order_status", "order": order_payload(order)})
        return [SlotSet("order_number", None)]


class ActionAskCancelConfirmation(ShopAction):
    action_name = "action_ask_cancel_confirmation"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict[str, Any]]:
        number = tracker.get_slot("order_number")
        with unit_of_work() as uow:
            order = owned_order(uow, tracker, number)
            if order is None:
                dispatcher.utter_message(text=not_found_text(tracker, number))
                return [SlotSet("order_number", None), SlotSet("pending_cancel_order", None)]
            if order.status == "cancelled":
                dispatcher.utter_message(text=f"Order {order.order_number} is already cancelled.")
            elif order.status == CANCELLATION_REQUESTED:
                dispatcher.utter_message(text=ALREADY_REQUESTED.format(number=order.order_number))
            elif order.status in SHIPPED_STATUSES or (order.shipment is not None and order.shipment.shipped_at):
                dispatcher.utter_message(
                    text=f"Order {order.order_number} has already left our warehouse ({order.status.replace('_', ' ')}), "
                    "so I can't cancel it any more. You can return it once it arrives: ask me about returns for how."
                )
            else:
                dispatcher.utter_message(
                    text=f"Do you want me to cancel order {order.order_number} "
                    f"(placed {day(order.placed_at)}, {money(order.total, order.currency)})? Please answer yes or no.",
                    buttons=[{"title": "Yes, cancel it", "payload": "/affirm"}, {"title": "No, keep it", "payload": "/deny"}],
                )
                return [SlotSet("pending_cancel_order", order.order_number)]
        return [SlotSet("order_number", None), SlotSet("pending_cancel_order", None)]


ALREADY_REQUESTED = (
    "You've already asked to cancel order {number}. It's waiting for the store to confirm; "
    "I'll tell you here as soon as they answer."
)
BACKLOG_NOTE = (
    " Our store's order system isn't answering right now: your request is saved and goes to them "
    "as soon as it's back, so nothing is lost."
)


def cancellation_payload(order: Order, previous_status: str) -> dict[str, Any]:
    """What the store's backend receives for a cancellation (README "Store backend contract")."""
    return {
        "order_number": order.order_number, "customer_id": order.customer_id, "email": order.email,
        "previous_status": previous_status, "total": order.total, "currency": order.currency,
        "items": [{"product_id": item.product_id, "quantity": item.quantity,
                   "variant_id": (item.product.payload or {}).get("variant_id") if item.product else None}
                  for item in order.items],
        "requested_at": (order.status_updated_at or utcnow()).isoformat(),
    }


class ActionCancelOrder(ShopAction):
    """Asks the store to cancel: the order is "cancellation requested" until the store confirms or refuses.

    The order's new state and the request to the store are written in one transaction (the
    outbox), so neither exists without the other; the shopper is told it is pending, and told
    again in this conversation when the store answers (``action_store_update``).
    """

    action_name = "action_cancel_order"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict[str, Any]]:
        pending = tracker.get_slot("pending_cancel_order")
        cleared = [SlotSet("pending_cancel_order", None), SlotSet("order_number", None)]
        if not pending:
            dispatcher.utter_message(text="There's no cancellation waiting for a yes. Which order do you want to cancel?")
            return cleared
        with unit_of_work() as uow:
            order = owned_order(uow, tracker, pending)
            if order is None:
                dispatcher.utter_message(text=not_found_text(tracker, pending))
                return cleared
            was_paid, previous = order.status == "paid", order.status
            outcome = uow.orders.request_cancellation(order, tracker.sender_id, tracker.get_latest_input_channel())
            backlog = ""
            if outcome == "requested":
                enqueue(uow, "cancellation_requested", cancellation_payload(order, previous),
                        order_id=order.order_number,
                        key=f"cancellation_requested:{order.order_number}:{order.status_updated_at:%Y%m%dT%H%M%S%f}")
                backlog = BACKLOG_NOTE if store_backlog(uow) else ""
            uow.commit()
        days = store_policy().cancellation_refund_days
        refund = f" If it's cancelled, your payment goes back to the method you paid with within {days} business days." if was_paid else ""
        replies = {
            "requested": f"I've asked the store to cancel order {pending}. Until they confirm it's pending "
                         f"(cancellation requested), and I'll tell you here as soon as they answer.{refund}{backlog}",
            "already_requested": ALREADY_REQUESTED.format(number=pending),
            "already_cancelled": f"Order {pending} was already cancelled.",
            "shipped": f"Order {pending} has just left our warehouse, so I couldn't cancel it. You can return it once it arrives.",
            "not_cancellable": f"Order {pending} can't be cancelled in its current state. A person from our team can help.",
        }
        dispatcher.utter_message(text=replies[outcome])
        return cleared
