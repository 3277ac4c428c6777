"""Returns: the policy, starting a return in chat, and its status as the store reports it.

A return is started for an order the shopper owns (``order_lookup_form`` with
``order_request: return``): :class:`ActionStartReturn` checks that the order was delivered
and within the window, then ``return_form`` asks which items, why, and how to be refunded,
and :class:`ActionSubmitReturn` writes the return request with a number and its message to
the store (the outbox) in one transaction. The store's later updates (``POST /api/events``,
``return_status``) are what "status of my return" answers from.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from rasa_sdk import FormValidationAction, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.base import ShopAction
from actions.context import store_policy, unit_of_work, verified_customer
from actions.orders import BACKLOG_NOTE, not_found_text, owned_order
from actions.replies import money
from assistant.backend.outbox import enqueue, store_backlog
from assistant.store.models import Order, OrderItem, ReturnRequest, utcnow

RETURN_NUMBER = re.compile(r"\bRT-[0-9A-F]{10}\b", re.IGNORECASE)
EVERYTHING = re.compile(r"\b(all|everything|every item|both|whole order|all of (it|them))\b", re.IGNORECASE)
REFUND_METHODS = {
    "store_credit": re.compile(r"\b(store credit|credit|gift ?card|voucher)\b", re.IGNORECASE),
    "exchange": re.compile(r"\b(exchange|swap|replace|another size|different size|other colou?r)\b", re.IGNORECASE),
    "original_payment": re.compile(r"\b(card|original|money back|refund|paypal|same way|bank)\b", re.IGNORECASE),
}
REFUND_LABELS = {"original_payment": "a refund to the way you paid", "store_credit": "store credit",
                 "exchange": "an exchange"}
MIN_REASON_CHARS = 3


def return_line(request: ReturnRequest) -> str:
    note = f" {request.note}" if request.note else ""
    return (f"Return {request.number} (order {request.order.order_number}, {REFUND_LABELS[request.refund_method]}): "
            f"{request.status.replace('_', ' ')} since {request.updated_at:%a %-d %b}.{note}")


def returnable_reason(order: Order, window_days: int) -> str | None:
    """Why this order cannot be returned now, or None when it can."""
    shipment = order.shipment
    delivered_at = shipment.delivered_at if shipment is not None else None
    if order.status != "delivered" and delivered_at is None:
        return (f"Order {order.order_number} is {order.status.replace('_', ' ')}, not delivered yet, so it can't be "
                "returned. Once it arrives, ask me again.")
    if delivered_at is not None and utcnow() - delivered_at > timedelta(days=window_days):
        return (f"Order {order.order_number} was delivered more than {window_days} days ago, outside our return "
                "window. A person from our team can look at it: say \"talk to a person\".")
    return None


def chosen_items(text: str, items: list[OrderItem]) -> list[OrderItem]:
    """Which lines of the order the shopper named: "everything", a number, or words of a title."""
    if EVERYTHING.search(text):
        return list(items)
    numbers = {int(n) for n in re.findall(r"\b(\d{1,2})\b", text)}
    if numbers and all(1 <= n <= len(items) for n in numbers):
        return [item for index, item in enumerate(items, 1) if index in numbers]
    words = {word for word in re.findall(r"[a-z0-9]+", text.lower()) if len(word) >= 3}
    return [item for item in items if words & set(re.findall(r"[a-z0-9]+", item.product.title.lower()))]


class ActionStartReturn(ShopAction):
    action_name = "action_start_return"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict[str, Any]]:
        number = tracker.get_slot("order_number")
        refused = [SlotSet("pending_return_order", None), SlotSet("order_number", None)]
        with unit_of_work() as uow:
            order = owned_order(uow, tracker, number)
            if order is None:
                dispatcher.utter_message(text=not_found_text(tracker, number))
                return [*refused, SlotSet("email", None)]
            reason = returnable_reason(order, store_policy().return_window_days)
            if reason is not None:
                dispatcher.utter_message(text=reason)
                return refused
            lines = [f"{index}. {item.product.title} (x{item.quantity})" for index, item in enumerate(order.items, 1)]
        dispatcher.utter_message(text=f"Let's start a return for order {order.order_number}. It has:\n" + "\n".join(lines))
        return [SlotSet("pending_return_order", order.order_number), SlotSet("return_items", None),
                SlotSet("return_reason", None), SlotSet("refund_method", None)]


class ValidateReturnForm(FormValidationAction):
    """Items named against the order's lines, a reason in the shopper's words, a refund method."""

    def name(self) -> str:
        return "validate_return_form"

    def validate_return_items(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        with unit_of_work() as uow:
            order = owned_order(uow, tracker, tracker.get_slot("pending_return_order"))
            chosen = chosen_items(str(value or ""), order.items) if order is not None else []
            names = [item.product.title for item in chosen]
        if not names:
            dispatcher.utter_message(text="I couldn't tell which items you mean. Type their names or numbers from "
                                          "the list, or \"everything\".")
            return {"return_items": None}
        return {"return_items": names}

    def validate_return_reason(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        reason = " ".join(str(value or "").split())[:500]
        if len(reason) < MIN_REASON_CHARS:
            dispatcher.utter_message(text="Could you tell me in a few words why you're returning it?")
            return {"return_reason": None}
        return {"return_reason": reason}

    def validate_refund_method(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = str(value or "")
        method = next((name for name, pattern in REFUND_METHODS.items() if pattern.search(text)), None)
        if method is None:
            dispatcher.utter_message(text="Please choose a refund to the way you paid, store credit, or an exchange.")
        return {"refund_method": method}


class ActionSubmitReturn(ShopAction):
    action_name = "action_submit_return"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict[str, Any]]:
        cleared = [SlotSet(name, None) for name in
                   ("pending_return_order", "return_items", "return_reason", "refund_method", "order_number")]
        with unit_of_work() as uow:
            order = owned_order(uow, tracker, tracker.get_slot("pending_return_order"))
            if order is None:
                dispatcher.utter_message(text=not_found_text(tracker, tracker.get_slot("pending_return_order")))
                return cleared
            named = set(tracker.get_slot("return_items") or [])
            items = [{"product_id": item.product_id, "title": item.product.title, "quantity": item.quantity,
                      "variant_id": (item.product.payload or {}).get("variant_id")}
                     for item in order.items if item.product.title in named]
            method = tracker.get_slot("refund_method") or "original_payment"
            request = uow.returns.create(order, items, tracker.get_slot("return_reason") or "", method)
            order.notify_sender_id, order.notify_channel = tracker.sender_id, tracker.get_latest_input_channel()
            enqueue(uow, "return_requested", {
                "return_number": request.number, "order_number": order.order_number, "customer_id": order.customer_id,
                "email": order.email, "items": items, "reason": request.reason, "refund_method": method,
                "requested_at": request.created_at.isoformat(),
            }, order_id=order.order_number, key=f"return_requested:{request.number}")
            backlog = BACKLOG_NOTE if store_backlog(uow) else ""
            uow.commit()
            number = request.number
        titles = ", ".join(str(item["title"]) for item in items)
        dispatcher.utter_message(
            text=f"Your return request is {number} ({titles}; {REFUND_LABELS[method]}). I've sent it to the store; "
                 f"they'll confirm it and email you a prepaid label, and I'll tell you here when they answer. "
                 f"Ask me \"status of my return\" any time.{backlog}")
        return cleared


class ActionReturnsAndRefunds(ShopAction):
    """The return policy, then the shopper's own returns and refunds as the store last reported them."""

    action_name = "action_returns_and_refunds"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict[str, Any]]:
        text = (tracker.latest_message or {}).get("text") or ""
        customer_id = verified_customer(tracker)
        lines = [store_policy().returns_summary()]
        with unit_of_work() as uow:
            named = RETURN_NUMBER.search(text)
            if named is not None:
                # The number is ten random hex digits given to the shopper: knowing it is the proof.
                request = uow.returns.by_number(named.group(0))
                lines.append(return_line(request) if request is not None else
                             f"I couldn't find a return {named.group(0).upper()}. Please check the number.")
            if customer_id is not None:
                if named is None:
                    lines += [return_line(request) for request in uow.returns.for_customer(customer_id)]
                for order in uow.orders.refunds_for_customer(customer_id, limit=5):
                    if (refund := order.refund) is None:
                        continue  # the query returns only orders with a refund
                    lines.append(f"Order {order.order_number}: refund {refund.status.replace('_', ' ')}, "
                                 f"{money(refund.amount, order.currency)}.")
        dispatcher.utter_message(text="\n".join(lines), buttons=[{"title": "Start a return", "payload": "/start_return"}])
        return []
