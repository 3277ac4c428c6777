"""Carts owned by a customer or by an anonymous conversation (the Rasa sender id).

Cart writes are single ``INSERT ... ON CONFLICT`` statements, so two messages from the
same shopper processed at once neither create two carts nor lose a quantity.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.orm import InstrumentedAttribute, Session

from assistant.store.models import Cart, CartItem, Product, utcnow
from assistant.store.upsert import dialect_insert


@dataclass(frozen=True)
class CartLine:
    """One line of a cart with what a reply shows about the product."""

    product_id: str
    title: str
    quantity: int
    unit_price: float | None
    currency: str | None
    image_url: str | None
    variant_id: str | None = None  # the storefront's variant (size/colour), for its cart link

    @property
    def line_total(self) -> float | None:
        return None if self.unit_price is None else round(self.unit_price * self.quantity, 2)


class CartRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, customer_id: str | None = None, session_key: str | None = None) -> Cart | None:
        """The owner's cart, if there is one; give exactly one of ``customer_id`` or ``session_key``."""
        column, key = _owner(customer_id, session_key)
        return self.session.scalars(select(Cart).where(column == key)).first()

    def get_or_create(self, customer_id: str | None = None, session_key: str | None = None) -> Cart:
        """The owner's cart, created if absent; safe when two requests race to create it."""
        column, key = _owner(customer_id, session_key)
        cart = self.get(customer_id, session_key)
        if cart is not None:
            return cart
        insert = dialect_insert(self.session, Cart.__table__)
        self.session.execute(
            insert.values({column.key: key, "updated_at": utcnow()}).on_conflict_do_nothing(index_elements=[column.key])
        )
        return self.session.scalars(select(Cart).where(column == key)).one()

    def add_item(self, cart: Cart, product_id: str, quantity: int = 1) -> int:
        """Add ``quantity`` of a product (added to any already there); returns the new quantity."""
        if quantity < 1:
            raise ValueError("quantity must be at least 1")
        now = utcnow()
        table = CartItem.__table__
        insert = dialect_insert(self.session, table)
        statement = (
            insert.values(cart_id=cart.id, product_id=product_id, quantity=quantity, added_at=now)
            .on_conflict_do_update(
                index_elements=["cart_id", "product_id"],
                set_={"quantity": table.c.quantity + insert.excluded.quantity},
            )
            .returning(table.c.quantity)
        )
        new_quantity = int(self.session.execute(statement).scalar_one())
        self._touch(cart, now)
        return new_quantity

    def remove_item(self, cart: Cart, product_id: str, quantity: int | None = None) -> int:
        """Take ``quantity`` (all when ``None``) of a product out; returns what is left (0: line gone)."""
        line = self.session.get(CartItem, (cart.id, product_id), with_for_update=True, populate_existing=True)
        if line is None:
            return 0
        left = 0 if quantity is None else max(line.quantity - quantity, 0)
        if left:
            line.quantity = left
        else:
            self.session.delete(line)
        self._touch(cart, utcnow())
        return left

    def lines(self, cart: Cart) -> list[CartLine]:
        """The cart's lines in the order they were added, with current product title and price."""
        statement = (
            select(CartItem, Product)
            .join(Product, Product.id == CartItem.product_id)
            .where(CartItem.cart_id == cart.id)
            .order_by(CartItem.added_at, CartItem.product_id)
        )
        return [
            CartLine(
                product_id=product.id, title=product.title, quantity=item.quantity,
                unit_price=product.price, currency=product.currency,
                image_url=(product.payload or {}).get("image_url"),
                variant_id=(product.payload or {}).get("variant_id"),
            )
            for item, product in self.session.execute(statement)
        ]

    def clear(self, cart: Cart) -> None:
        self.session.execute(delete(CartItem).where(CartItem.cart_id == cart.id))
        self._touch(cart, utcnow())

    def _touch(self, cart: Cart, at: datetime) -> None:
        self.session.execute(update(Cart).where(Cart.id == cart.id).values(updated_at=at))
        self.session.expire(cart)


def _owner(customer_id: str | None, session_key: str | None) -> tuple[InstrumentedAttribute[str | None], str]:
    """The cart column and key that identify the owner."""
    if customer_id is not None and session_key is None:
        return Cart.customer_id, customer_id
    if session_key is not None and customer_id is None:
        return Cart.session_key, session_key
    raise ValueError("give exactly one of customer_id or session_key")
