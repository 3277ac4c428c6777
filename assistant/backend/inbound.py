"""The store's updates, as ``POST /api/events`` receives them beside the storefront's events.

Each update is a JSON object with a ``type`` of :data:`UPDATE_TYPES` (README "Store backend
contract")::

    {"type": "order_status", "order_number": "SA-000123", "status": "cancelled", "at": "...", "note": "..."}
    {"type": "cancellation_refused", "order_number": "SA-000123", "reason": "already packed", "status": "paid"}
    {"type": "return_status", "return_number": "RT-1A2B3C4D", "status": "approved", "note": "label sent"}
    {"type": "refund", "order_number": "SA-000123", "status": "refunded", "amount": 49.5}
    {"type": "stock", "product_id": "P00001", "stock": {"warehouse": 12}}
    {"type": "price", "product_id": "P00001", "price": 39.99, "currency": "USD"}

``at`` (default now) dates the store's change: an update older than the state we hold
changes nothing (``stale``), so retried or reordered webhooks cannot turn a cancelled order
back. An answer to something the shopper asked in chat (a cancellation confirmed or refused,
a return's progress, a refund) is written as a notice for their conversation, told after the
transaction commits (:mod:`assistant.backend.notify`).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from assistant.store.db import UnitOfWork
from assistant.store.models import CANCELLATION_REQUESTED, RETURN_STATUSES, Order, Product, Refund
from assistant.store.repositories import Recipient

UPDATE_TYPES = frozenset({"order_status", "cancellation_refused", "return_status", "refund", "stock", "price"})
ORDER_STATUSES = frozenset({
    "placed", "paid", "shipped", "in_transit", "out_for_delivery", "delivered", "delayed", "cancelled", "returned",
    "refunded",
})
REFUND_STATUSES = frozenset({"requested", "processing", "refunded", "rejected"})
FIELDS = {
    "order_status": ({"order_number", "status"}, {"at", "note"}),
    "cancellation_refused": ({"order_number"}, {"at", "reason", "status"}),
    "return_status": ({"return_number", "status"}, {"at", "note"}),
    "refund": ({"order_number", "status"}, {"at", "amount"}),
    "stock": ({"product_id", "stock"}, {"at"}),
    "price": ({"product_id", "price"}, {"at", "currency"}),
}
CLOCK_SKEW = timedelta(minutes=5)
MAX_TEXT = 500


@dataclass(frozen=True)
class StoreUpdate:
    type: str
    fields: dict[str, Any]
    at: datetime


class UnknownReference(ValueError):
    """An update about an order, return or product this store does not have."""


def _text(raw: dict[str, Any], name: str) -> str | None:
    value = raw.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{name} must be a non-empty string")
    return value.strip()[:MAX_TEXT]


def _at(raw: Any, now: datetime) -> datetime:
    if raw is None:
        return now
    try:
        at = datetime.fromisoformat(str(raw).strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"at is not an ISO 8601 date-time: {str(raw)[:40]!r}") from None
    at = at if at.tzinfo else at.replace(tzinfo=UTC)
    if at > now + CLOCK_SKEW:
        raise ValueError("at lies in the future")
    return at


def _stock(value: Any) -> dict[str, int]:
    """``12`` or ``{"warehouse": 12, "store-1": 0}``: whole, non-negative units per location."""
    by_location = {"default": value} if not isinstance(value, dict) else value
    if not by_location or not all(
        isinstance(units, int) and not isinstance(units, bool) and units >= 0 for units in by_location.values()
    ):
        raise ValueError("stock must be a whole number of units >= 0, or an object of them per location")
    return {str(location): int(units) for location, units in by_location.items()}


def parse_update(raw: dict[str, Any], now: datetime) -> StoreUpdate:
    """One update checked field by field; ``ValueError`` with a message for the store."""
    kind = raw["type"]
    required, optional = FIELDS[kind]
    unknown = set(raw) - required - optional - {"type"}
    if unknown:
        raise ValueError(f"unknown fields {sorted(unknown)} for {kind}; expected {sorted(required | optional)}")
    missing = sorted(name for name in required if raw.get(name) is None)
    if missing:
        raise ValueError(f"a {kind} update needs {', '.join(missing)}")
    fields: dict[str, Any] = {}
    for name in ("order_number", "return_number", "product_id", "note", "reason", "currency"):
        if name in raw:
            fields[name] = _text(raw, name)
    status = _text(raw, "status")
    allowed = {"return_status": RETURN_STATUSES, "refund": REFUND_STATUSES}.get(kind, ORDER_STATUSES)
    if status is not None:
        if status not in allowed:
            raise ValueError(f"status must be one of {', '.join(sorted(allowed))}")
        fields["status"] = status
    for name in ("amount", "price"):
        if raw.get(name) is not None:
            value = raw[name]
            if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                raise ValueError(f"{name} must be a number >= 0")
            fields[name] = round(float(value), 2)
    if kind == "stock":
        fields["stock"] = _stock(raw["stock"])
    return StoreUpdate(kind, fields, _at(raw.get("at"), now))


def _recipient(order: Order) -> Recipient | None:
    """Where an answer about ``order`` is told: the conversation that asked, else the customer's last one."""
    if order.notify_sender_id and order.notify_channel:
        return Recipient(order.notify_sender_id, order.notify_channel)
    customer = order.customer
    if customer is not None and customer.last_sender_id and customer.last_channel:
        return Recipient(customer.last_sender_id, customer.last_channel)
    return None


def _amount(amount: float | None, currency: str | None) -> str:
    return "" if amount is None else f" of {amount:,.2f} {currency or 'USD'}"


class UpdateApplier:
    """Applies a batch of updates inside the caller's unit of work; counts outcomes, writes notices."""

    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow
        self.outcomes: Counter[str] = Counter()
        self.notices = 0

    def _order(self, number: str) -> Order:
        order = self.uow.orders.by_number(number)
        if order is None:
            raise UnknownReference(f"unknown order_number {number!r}")
        return order

    def _tell(self, order: Order, text: str) -> None:
        recipient = _recipient(order)
        if recipient is not None:
            self.uow.notices.add(recipient, text, order.order_number)
            self.notices += 1

    def apply(self, update: StoreUpdate) -> None:
        handler = getattr(self, f"_apply_{update.type}")
        self.outcomes[handler(update.fields, update.at)] += 1

    def _apply_order_status(self, fields: dict[str, Any], at: datetime) -> str:
        order = self._order(fields["order_number"])
        asked = order.status == CANCELLATION_REQUESTED
        outcome = self.uow.orders.apply_store_status(order, fields["status"], at, fields.get("note"))
        if outcome == "applied" and asked and fields["status"] == "cancelled":
            self._tell(order, f"The store has confirmed: order {order.order_number} is cancelled. "
                              "If you paid already, the money goes back to the way you paid.")
        elif outcome == "applied" and asked:
            self._tell(order, f"The store could not cancel order {order.order_number}: it is "
                              f"{fields['status'].replace('_', ' ')} now.")
        return outcome

    def _apply_cancellation_refused(self, fields: dict[str, Any], at: datetime) -> str:
        order = self._order(fields["order_number"])
        if order.status != CANCELLATION_REQUESTED and fields.get("status") is None:
            return "unchanged"
        status = fields.get("status") or self.uow.orders.status_before_request(order)
        outcome = self.uow.orders.apply_store_status(order, status, at, fields.get("reason"))
        if outcome != "stale":
            reason = f" ({fields['reason']})" if fields.get("reason") else ""
            self._tell(order, f"Sorry, the store could not cancel order {order.order_number}{reason}. "
                              f"It stays {status.replace('_', ' ')}; once it arrives you can return it.")
        return outcome

    def _apply_return_status(self, fields: dict[str, Any], at: datetime) -> str:
        request = self.uow.returns.by_number(fields["return_number"])
        if request is None:
            raise UnknownReference(f"unknown return_number {fields['return_number']!r}")
        outcome = self.uow.returns.apply_store_status(request, fields["status"], at, fields.get("note"))
        if outcome == "applied":
            note = f" {fields['note']}" if fields.get("note") else ""
            self._tell(request.order, f"Update on your return {request.number} (order {request.order.order_number}): "
                                      f"{fields['status'].replace('_', ' ')}.{note}")
        return outcome

    def _apply_refund(self, fields: dict[str, Any], at: datetime) -> str:
        order = self._order(fields["order_number"])
        refund = order.refund or Refund(order=order, status=fields["status"])
        if refund.refunded_at is not None and at < refund.refunded_at:
            return "stale"
        changed = refund.status != fields["status"] or refund.amount != fields.get("amount", refund.amount)
        refund.status = fields["status"]
        refund.amount = fields.get("amount", refund.amount)
        refund.refunded_at = at
        self.uow.orders.save_refund(refund)
        if changed:
            self._tell(order, f"Order {order.order_number}: your refund{_amount(refund.amount, order.currency)} "
                              f"is {refund.status}.")
        return "applied" if changed else "unchanged"

    def _product(self, product_id: str) -> Product:
        product = self.uow.products.get(product_id)
        if product is None:
            raise UnknownReference(f"unknown product_id {product_id!r}")
        return product

    def _apply_stock(self, fields: dict[str, Any], at: datetime) -> str:
        product = self._product(fields["product_id"])
        if (product.payload or {}).get("stock") == fields["stock"]:
            return "unchanged"
        product.payload = {**(product.payload or {}), "stock": fields["stock"]}
        self.uow.flush()
        return "applied"

    def _apply_price(self, fields: dict[str, Any], at: datetime) -> str:
        product = self._product(fields["product_id"])
        currency = fields.get("currency") or product.currency
        if product.price == fields["price"] and product.currency == currency:
            return "unchanged"
        product.price, product.currency = fields["price"], currency
        product.payload = {**(product.payload or {}), "price": fields["price"], "currency": currency}
        self.uow.flush()
        return "applied"
