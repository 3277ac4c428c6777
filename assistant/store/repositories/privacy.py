"""What the store knows about a customer, and erasing it ("delete my data").

Erasure deletes the customer's events, carts, reminders, product alerts, channel links and profile. Orders are kept,
because tax and accounting law requires it, but anonymized: they move to a fresh
pseudonymous customer (``erased-<random>``) and lose their e-mail, so nothing left links
them to the person; audit rows that name one of those orders (cancellations) move to the
same pseudonym. Handoff requests keep their queue row for the agents' statistics but lose
the transcript, the customer link, the message left for the team and the sender id (which
carries the customer id), and an open one is closed. The other audit rows are kept: they
are the record that the request was honoured. Analytics facts and CSAT answers keep
their counts but lose the customer link, the conversation id and every quoted word.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from assistant.store.dml import changed_rows
from assistant.store.models import (
    AuditLog,
    Cart,
    CartNudge,
    Customer,
    Event,
    HandoffRequest,
    Order,
    ProductAlert,
    ReturnRequest,
    ShopperNotice,
    utcnow,
)
from assistant.store.repositories.alerts import AlertRepository
from assistant.store.repositories.analytics import AnalyticsRepository
from assistant.store.repositories.channel_links import ChannelLinkRepository


def _json_value(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime | date) else value


def _plain(row: Any) -> dict[str, Any]:
    """A mapped row's columns as a JSON-ready dict."""
    return {column.key: _json_value(getattr(row, column.key)) for column in row.__mapper__.column_attrs}


def _rows(session: Session, statement: Any) -> list[dict[str, Any]]:
    return [_plain(row) for row in session.scalars(statement)]


@dataclass(frozen=True)
class LatestOrder:
    order_number: str
    placed_at: datetime
    status: str


@dataclass(frozen=True)
class DataSummary:
    """The facts "what do you know about me" reports."""

    customer_id: str
    name: str | None
    email: str | None
    loyalty_tier: str | None
    member_since: datetime
    personalization_consent: bool | None
    marketing_consent: bool
    order_count: int
    latest_order: LatestOrder | None
    view_count: int
    search_count: int
    cart_event_count: int
    cart_items: int
    active_alerts: int


@dataclass(frozen=True)
class ErasureReport:
    events_deleted: int
    carts_deleted: int
    orders_anonymized: int
    anonymized_as: str | None
    alerts_deleted: int


class PrivacyRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def summary(self, customer_id: str) -> DataSummary | None:
        customer = self.session.get(Customer, customer_id)
        if customer is None:
            return None
        orders = select(func.count(Order.id)).where(Order.customer_id == customer_id)
        latest = self.session.execute(
            select(Order.order_number, Order.placed_at, Order.status)
            .where(Order.customer_id == customer_id)
            .order_by(Order.placed_at.desc(), Order.id.desc())
            .limit(1)
        ).first()
        counts = {
            kind: int(count) for kind, count in self.session.execute(
                select(Event.type, func.count(Event.id)).where(Event.customer_id == customer_id).group_by(Event.type)
            )
        }
        cart = self.session.scalars(select(Cart).where(Cart.customer_id == customer_id)).first()
        return DataSummary(
            customer_id=customer.id, name=customer.name, email=customer.email, loyalty_tier=customer.loyalty_tier,
            member_since=customer.created_at, personalization_consent=customer.personalization_consent,
            marketing_consent=customer.marketing_consent, order_count=int(self.session.scalar(orders) or 0),
            latest_order=LatestOrder(*latest) if latest else None,
            view_count=counts.get("view", 0), search_count=counts.get("search", 0),
            cart_event_count=counts.get("add_to_cart", 0) + counts.get("remove_from_cart", 0),
            cart_items=sum(item.quantity for item in cart.items) if cart else 0,
            active_alerts=AlertRepository(self.session).count_active(customer_id),
        )

    def export(self, customer_id: str) -> dict[str, Any] | None:
        """Everything the store holds about the customer, as JSON-ready data (for "download
        my data"); ``None`` when there is no such customer."""
        customer = self.session.get(Customer, customer_id)
        if customer is None:
            return None
        orders = []
        for order in self.session.scalars(select(Order).where(Order.customer_id == customer_id).order_by(Order.placed_at)):
            orders.append({
                **_plain(order), "items": [_plain(item) for item in order.items],
                "shipment": _plain(order.shipment) if order.shipment else None,
                "refund": _plain(order.refund) if order.refund else None,
                "returns": _rows(self.session, select(ReturnRequest).where(ReturnRequest.order_id == order.id)),
            })
        carts = self.session.scalars(select(Cart).where(Cart.customer_id == customer_id))
        profile = _plain(customer)
        return {
            "profile": {k: v for k, v in profile.items() if "consent" not in k},
            "consent": {k: v for k, v in profile.items() if "consent" in k},
            "orders": orders,
            "events": _rows(self.session, select(Event).where(Event.customer_id == customer_id).order_by(Event.at)),
            "cart": [{**_plain(cart), "items": [_plain(item) for item in cart.items]} for cart in carts],
            "alerts": _rows(self.session, select(ProductAlert).where(ProductAlert.customer_id == customer_id)),
            "cart_reminders": _rows(self.session, select(CartNudge).where(CartNudge.customer_id == customer_id)),
            "handoffs": _rows(self.session, select(HandoffRequest).where(HandoffRequest.customer_id == customer_id)),
            "audit": _rows(self.session, select(AuditLog).where(AuditLog.customer_id == customer_id).order_by(AuditLog.at)),
        }

    def erase(self, customer_id: str, sender_ids: set[str]) -> ErasureReport:
        """Erase the customer and the anonymous traces of their conversations (``sender_ids``)."""
        events = changed_rows(
            self.session, delete(Event).where(or_(Event.customer_id == customer_id, Event.session_id.in_(sender_ids)))
        )
        carts = changed_rows(
            self.session, delete(Cart).where(or_(Cart.customer_id == customer_id, Cart.session_key.in_(sender_ids)))
        )
        self.session.execute(delete(CartNudge).where(CartNudge.customer_id == customer_id))
        alerts = changed_rows(self.session, delete(ProductAlert).where(ProductAlert.customer_id == customer_id))
        self._scrub_handoffs(customer_id, sender_ids)
        # Store backend: what the store said for their conversations, and the words of their returns
        # (the return itself stays with the anonymized order, for accounting).
        self.session.execute(delete(ShopperNotice).where(ShopperNotice.sender_id.in_(sender_ids)))
        owned = select(Order.id).where(Order.customer_id == customer_id)
        self.session.execute(update(ReturnRequest).where(ReturnRequest.order_id.in_(owned))
                             .values(reason="(erased at the customer's request)", note=None))
        self.session.execute(update(Order).where(Order.customer_id == customer_id)
                             .values(notify_sender_id=None, notify_channel=None))
        AnalyticsRepository(self.session).forget(customer_id, sender_ids)  # counts kept, nobody named
        ChannelLinkRepository(self.session).forget_customer(customer_id)  # the shopper is a guest on every channel
        order_count = int(self.session.scalar(select(func.count(Order.id)).where(Order.customer_id == customer_id)) or 0)
        pseudonym = None
        if order_count:
            pseudonym = f"erased-{secrets.token_hex(8)}"
            self.session.add(Customer(id=pseudonym, created_at=utcnow(), marketing_consent=False))
            self.session.flush()
            self.session.execute(
                update(Order).where(Order.customer_id == customer_id).values(customer_id=pseudonym, email=None)
            )
            for entry in self.session.scalars(select(AuditLog).where(AuditLog.customer_id == customer_id)):
                if isinstance(entry.detail, dict) and "order_number" in entry.detail:
                    entry.customer_id = pseudonym
        self.session.execute(delete(Customer).where(Customer.id == customer_id))
        self.session.flush()
        self.session.expunge_all()
        return ErasureReport(int(events or 0), int(carts or 0), order_count, pseudonym, int(alerts or 0))

    def _scrub_handoffs(self, customer_id: str, sender_ids: set[str]) -> None:
        """Keep each handoff row (queue statistics) but nothing that names or quotes the person."""
        rows = self.session.scalars(
            select(HandoffRequest).where(
                or_(HandoffRequest.customer_id == customer_id, HandoffRequest.sender_id.in_(sender_ids))
            )
        )
        for row in rows:
            row.customer_id, row.transcript, row.left_message = None, None, None
            row.sender_id = f"erased-{secrets.token_hex(8)}"
            if row.status != "closed":
                row.status, row.closed_at, row.closed_how = "closed", utcnow(), "closed"
