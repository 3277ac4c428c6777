"""Read-only history queries for personalization: what a customer bought, looked at and holds.

Recommendations and the evaluation read the same rows through this repository (``uow.history``),
so the offline figures describe the code that serves shoppers.  ``before`` cuts the history at a
moment (the evaluation's time split); cancelled orders count as not bought.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from assistant.store.models import Cart, CartItem, Event, Order, OrderItem

INTEREST_EVENTS = ("view", "add_to_cart")
YIELD_ROWS = 20_000


@dataclass(frozen=True)
class OrderLine:
    """One product of one (not cancelled) order."""

    customer_id: str
    order_id: int
    product_id: str
    at: datetime


@dataclass(frozen=True)
class Interest:
    """A product the customer viewed or put in a cart."""

    product_id: str
    type: str
    at: datetime


def _lines_statement(before: datetime | None) -> Select[str, int, str, datetime]:
    statement = (
        select(Order.customer_id, OrderItem.order_id, OrderItem.product_id, Order.placed_at)
        .join(Order, Order.id == OrderItem.order_id)
        .where(Order.status != "cancelled")
    )
    return statement if before is None else statement.where(Order.placed_at < before)


class HistoryRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def customer_lines(self, customer_id: str, before: datetime | None = None) -> list[OrderLine]:
        """The customer's order lines, oldest first (uses the ``(customer_id, placed_at)`` index)."""
        statement = _lines_statement(before).where(Order.customer_id == customer_id).order_by(Order.placed_at, OrderItem.order_id)
        return [OrderLine(*row) for row in self.session.execute(statement)]

    def all_lines(self, before: datetime | None = None) -> Iterator[OrderLine]:
        """Every order line of every customer, streamed (the training set of the recommenders)."""
        statement = _lines_statement(before).execution_options(yield_per=YIELD_ROWS)
        for row in self.session.execute(statement):
            yield OrderLine(*row)

    def interests(self, customer_id: str, limit: int, before: datetime | None = None) -> list[Interest]:
        """The customer's latest views and cart additions, newest first."""
        statement = (
            select(Event.product_id, Event.type, Event.at)
            .where(Event.customer_id == customer_id, Event.type.in_(INTEREST_EVENTS), Event.product_id.is_not(None))
            .order_by(Event.at.desc(), Event.id.desc())
            .limit(limit)
        )
        if before is not None:
            statement = statement.where(Event.at < before)
        rows = self.session.execute(statement)
        return [Interest(product_id, kind, at) for product_id, kind, at in rows if product_id is not None]  # None: excluded above

    def cart_products(self, customer_id: str | None = None, session_key: str | None = None) -> list[str]:
        """Product ids in the customer's (or the anonymous conversation's) cart, first added first."""
        owner = Cart.customer_id == customer_id if customer_id is not None else Cart.session_key == session_key
        statement = select(CartItem.product_id).join(Cart, Cart.id == CartItem.cart_id).where(owner).order_by(CartItem.added_at)
        return list(self.session.scalars(statement))

    def store_fingerprint(self) -> str:
        """Changes whenever an order is added, removed or cancelled: the trained tables' freshness key."""
        count, last_id, cancelled = self.session.execute(
            select(func.count(Order.id), func.max(Order.id), func.count(Order.cancelled_at))
        ).one()
        return f"{count}:{last_id}:{cancelled}"
