"""Orders: the signed-in customer's orders, guest look-up, cancellation, refunds.

Guest look-up is the one place where a stranger names an order, so it answers only
"this order, because the e-mail matches" or ``None``, and never says which half was wrong.
"""

from __future__ import annotations

import hmac
from datetime import datetime
from typing import Literal

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, selectinload

from assistant.store.models import (
    CANCELLABLE_STATUSES,
    CANCELLATION_REQUESTED,
    AuditLog,
    Customer,
    Order,
    OrderItem,
    Refund,
    utcnow,
)
from assistant.store.repositories.customers import normalize_email

Refusal = Literal["already_cancelled", "shipped", "not_cancellable"]
CancelOutcome = Literal["cancelled", "already_cancelled", "shipped", "not_cancellable"]
RequestOutcome = Literal["requested", "already_requested", "already_cancelled", "shipped", "not_cancellable"]
StoreOutcome = Literal["applied", "unchanged", "stale"]
# Compared against when an order number does not exist, so that case costs the same comparison.
_NO_OWNER = "\x00no order"
SHIPPED_STATUSES = frozenset({"shipped", "in_transit", "delayed", "out_for_delivery", "delivered", "returned"})


def normalize_order_number(order_number: str) -> str:
    """What a shopper types, trimmed and without a leading ``#`` ("#sa-000123 " -> "sa-000123")."""
    return order_number.strip().lstrip("#").strip()


def _with_details(statement: Select[Order]) -> Select[Order]:
    """Load what an order reply shows in the same round trips, before the session closes."""
    return statement.options(
        selectinload(Order.items).selectinload(OrderItem.product),
        selectinload(Order.shipment),
        selectinload(Order.refund),
    )


class OrderRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def by_number(self, order_number: str) -> Order | None:
        """The order with this number, as typed or upper-cased (order numbers are printed upper-case)."""
        typed = normalize_order_number(order_number)
        if not typed:
            return None
        statement = _with_details(select(Order).where(Order.order_number.in_({typed, typed.upper()})))
        return self.session.scalars(statement).first()

    def latest_for_customer(self, customer_id: str) -> Order | None:
        recent = self.recent_for_customer(customer_id, limit=1)
        return recent[0] if recent else None

    def recent_for_customer(self, customer_id: str, limit: int = 5) -> list[Order]:
        """Newest first."""
        statement = _with_details(
            select(Order)
            .where(Order.customer_id == customer_id)
            .order_by(Order.placed_at.desc(), Order.id.desc())
            .limit(limit)
        )
        return list(self.session.scalars(statement))

    def by_number_for_customer(self, order_number: str, customer_id: str) -> Order | None:
        """The customer's own order with this number: one query that cannot tell someone else's from none."""
        typed = normalize_order_number(order_number)
        if not typed:
            return None
        statement = _with_details(
            select(Order).where(Order.order_number.in_({typed, typed.upper()}), Order.customer_id == customer_id)
        )
        return self.session.scalars(statement).first()

    def find_for_guest(self, order_number: str, email: str) -> Order | None:
        """The order only if both its number and its e-mail match (trimmed, case-insensitive).

        Returns ``None`` alike for an unknown number and for a wrong e-mail, and does the same
        work for both: one query for the number's owner e-mail (a row or none) and one
        constant-time comparison (against a placeholder when there is no order). Only a
        match loads the order itself.
        """
        typed = normalize_order_number(order_number)
        statement = (
            select(Order.id, Order.email, Customer.email)
            .outerjoin(Customer, Customer.id == Order.customer_id)
            .where(Order.order_number.in_({typed, typed.upper()}))
            .limit(1)
        )
        row = self.session.execute(statement).first()
        owner = normalize_email((row[1] or row[2] or "") if row is not None else "")
        matches = hmac.compare_digest((owner or _NO_OWNER).encode(), normalize_email(email).encode())
        if row is None or not owner or not matches:
            return None
        return self.session.scalars(_with_details(select(Order).where(Order.id == row[0]))).first()

    def _refusal(self, order: Order) -> Refusal | None:
        """Why the assistant may not ask for this order's cancellation, or None when it may."""
        if order.status == "cancelled":
            return "already_cancelled"
        if order.status in SHIPPED_STATUSES or (order.shipment is not None and order.shipment.shipped_at):
            return "shipped"
        if order.status not in CANCELLABLE_STATUSES:
            return "not_cancellable"
        return None

    def request_cancellation(self, order: Order, sender_id: str | None = None, channel: str | None = None,
                             now: datetime | None = None) -> RequestOutcome:
        """Mark a cancellation asked in chat as waiting for the store (it decides; the parcel may be packed).

        The order becomes ``cancellation_requested``; the conversation that asked is remembered
        so the store's answer is told there. The caller enqueues the request to the store in the
        same transaction (:func:`assistant.backend.outbox.enqueue`).
        """
        if order.status == CANCELLATION_REQUESTED:
            return "already_requested"
        refusal = self._refusal(order)
        if refusal is not None:
            return refusal
        at = now or utcnow()
        previous = order.status
        order.status = CANCELLATION_REQUESTED
        order.status_source, order.status_updated_at = "assistant", at
        if sender_id and channel:
            order.notify_sender_id, order.notify_channel = sender_id, channel
        self.session.add(AuditLog(
            customer_id=order.customer_id, action="order_cancellation_requested", at=at,
            detail={"order_number": order.order_number, "previous_status": previous},
        ))
        self.session.flush()
        return "requested"

    def status_before_request(self, order: Order) -> str:
        """The status an order had before its cancellation was asked for (what a refusal restores)."""
        detail = self.session.scalars(
            select(AuditLog.detail)
            .where(AuditLog.action == "order_cancellation_requested", AuditLog.customer_id == order.customer_id)
            .order_by(AuditLog.at.desc(), AuditLog.id.desc())
        )
        for entry in detail:
            if entry and entry.get("order_number") == order.order_number:
                return str(entry.get("previous_status") or "placed")
        return "placed"

    def apply_store_status(self, order: Order, status: str, at: datetime, note: str | None = None) -> StoreOutcome:
        """The store's word on an order's status, unless it is older than what we hold already.

        Updates can arrive out of order (retried webhooks): one dated before the store's last
        update of this order is ``stale`` and changes nothing. A state the chat set (cancellation
        requested) always yields to the store, whatever the two clocks say.
        """
        if order.status_source == "store" and order.status_updated_at is not None and at < order.status_updated_at:
            return "stale"
        if order.status == status:
            order.status_source, order.status_updated_at = "store", at
            self.session.flush()
            return "unchanged"
        previous = order.status
        order.status = status
        order.status_source, order.status_updated_at = "store", at
        if status == "cancelled":
            order.cancelled_at = at
        self.session.add(AuditLog(
            customer_id=order.customer_id, action="order_status_from_store", at=at,
            detail={"order_number": order.order_number, "previous_status": previous, "status": status,
                    **({"note": note} if note else {})},
        ))
        self.session.flush()
        return "applied"

    def cancel(self, order: Order, now: datetime | None = None) -> CancelOutcome:
        """Cancel an order at once (an operator's or a test's tool; the chat asks the store instead).

        Only ``placed`` and ``paid`` orders can be cancelled. The cancellation is written to
        the audit log in the same transaction.
        """
        refusal = self._refusal(order)
        if refusal is not None:
            return refusal
        at = now or utcnow()
        previous = order.status
        order.status = "cancelled"
        order.cancelled_at = at
        self.session.add(
            AuditLog(
                customer_id=order.customer_id, action="order_cancelled", at=at,
                detail={"order_number": order.order_number, "previous_status": previous},
            )
        )
        self.session.flush()
        return "cancelled"

    def customers_with_orders(self, limit: int) -> list[str]:
        """Ids of customers who have at least one order, sorted (benches pick shoppers with an order to ask about)."""
        statement = select(Order.customer_id).distinct().order_by(Order.customer_id).limit(limit)
        return list(self.session.scalars(statement))

    def save_refund(self, refund: Refund) -> None:
        """Store a new or changed refund of an order (its status as the store last reported it)."""
        self.session.add(refund)
        self.session.flush()

    def refunds_for_customer(self, customer_id: str, limit: int = 10) -> list[Order]:
        """The customer's orders that have a return or refund, newest first (``order.refund`` is set)."""
        statement = _with_details(
            select(Order)
            .join(Refund, Refund.order_id == Order.id)
            .where(Order.customer_id == customer_id)
            .order_by(Order.placed_at.desc(), Order.id.desc())
            .limit(limit)
        )
        return list(self.session.scalars(statement))
