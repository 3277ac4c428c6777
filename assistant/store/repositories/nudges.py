"""Abandoned-cart reminders: which carts are due, and the log that stops a second send."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from assistant.store.models import Cart, CartItem, CartNudge, Customer, utcnow
from assistant.store.upsert import dialect_insert


@dataclass(frozen=True)
class DueCart:
    """A known customer's untouched cart that may get a reminder."""

    customer_id: str
    cart_id: int
    updated_at: datetime
    sender_id: str
    channel: str
    time_zone: str | None

    @property
    def version(self) -> str:
        """Changes whenever the cart does: one reminder per version at most."""
        return f"{self.cart_id}:{self.updated_at.isoformat()}"


class NudgeRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def due_carts(self, untouched_since: datetime, limit: int = 500) -> list[DueCart]:
        """Carts with items, unchanged since ``untouched_since``, whose owner agreed to
        marketing and has a conversation to reach; version already reminded or not (see :meth:`claim`)."""
        has_items = exists().where(CartItem.cart_id == Cart.id)
        statement = (
            select(Cart.id, Cart.updated_at, Customer.id, Customer.last_sender_id, Customer.last_channel, Customer.time_zone)
            .join(Customer, Customer.id == Cart.customer_id)
            .where(
                has_items,
                Cart.updated_at <= untouched_since,
                Customer.marketing_consent.is_(True),
                Customer.last_sender_id.is_not(None),
                Customer.last_channel.is_not(None),
            )
            .order_by(Cart.updated_at, Cart.id)
            .limit(limit)
        )
        due = [
            DueCart(customer_id, cart_id, updated_at, sender_id, channel, time_zone)
            for cart_id, updated_at, customer_id, sender_id, channel, time_zone in self.session.execute(statement)
            if sender_id is not None and channel is not None  # excluded above; narrows the types
        ]
        if not due:
            return []
        sent = set(self.session.scalars(select(CartNudge.cart_version).where(CartNudge.cart_version.in_([d.version for d in due]))))
        return [cart for cart in due if cart.version not in sent]

    def claim(self, cart: DueCart, status: str) -> bool:
        """Write the log row first; ``False`` when another run already claimed this cart version."""
        table = CartNudge.__table__
        insert = dialect_insert(self.session, table)
        inserted = self.session.execute(
            insert.values(
                customer_id=cart.customer_id, cart_version=cart.version, sender_id=cart.sender_id,
                channel=cart.channel, status=status, created_at=utcnow(),
            ).on_conflict_do_nothing(index_elements=["cart_version"]).returning(table.c.id)
        ).scalar_one_or_none()
        return inserted is not None

    def finish(self, cart: DueCart, status: str, detail: str | None = None) -> None:
        nudge = self.session.scalars(select(CartNudge).where(CartNudge.cart_version == cart.version)).one()
        nudge.status, nudge.detail = status, detail
        self.session.flush()
