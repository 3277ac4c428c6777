"""What a shopper does before an order: interaction events, carts, and the reminders about carts left."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from assistant.store.models.base import Base, utcnow

if TYPE_CHECKING:
    from assistant.store.models.catalog import Product


EVENT_TYPES = ("view", "search", "add_to_cart", "remove_from_cart", "purchase")


class Event(Base):
    """A shopper's interaction, the raw material of personalization.

    ``import_key`` is a digest of an imported line so that importing the same history
    twice adds nothing; events recorded live leave it empty.
    """

    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_customer_id_at", "customer_id", "at"),
        CheckConstraint("type IN ('view', 'search', 'add_to_cart', 'remove_from_cart', 'purchase')", name="type"),
        CheckConstraint("customer_id IS NOT NULL OR session_id IS NOT NULL", name="owner"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    customer_id: Mapped[str | None] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    session_id: Mapped[str | None] = mapped_column(String(128), index=True)
    type: Mapped[str] = mapped_column(String(32))
    product_id: Mapped[str | None] = mapped_column(ForeignKey("products.id"))
    query: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    import_key: Mapped[str | None] = mapped_column(String(64), unique=True)


class Cart(Base):
    """A cart owned by a known customer or by an anonymous conversation (Rasa sender id)."""

    __tablename__ = "carts"
    __table_args__ = (
        CheckConstraint("(customer_id IS NULL) <> (session_key IS NULL)", name="one_owner"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    customer_id: Mapped[str | None] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), unique=True)
    session_key: Mapped[str | None] = mapped_column(String(128), unique=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    items: Mapped[list[CartItem]] = relationship(
        back_populates="cart", cascade="all, delete-orphan", order_by="CartItem.added_at"
    )


class CartItem(Base):
    __tablename__ = "cart_items"
    __table_args__ = (CheckConstraint("quantity > 0", name="positive_quantity"),)

    cart_id: Mapped[int] = mapped_column(ForeignKey("carts.id", ondelete="CASCADE"), primary_key=True)
    product_id: Mapped[str] = mapped_column(ForeignKey("products.id"), primary_key=True)
    quantity: Mapped[int] = mapped_column()
    added_at: Mapped[datetime] = mapped_column(default=utcnow)

    cart: Mapped[Cart] = relationship(back_populates="items")
    product: Mapped[Product] = relationship()


class CartNudge(Base):
    """One abandoned-cart reminder per cart version (``cart_version`` = cart id + last change).

    The row is written before the reminder is sent, so a second runner (cron and the web
    app's task at once) hits the unique key instead of sending it twice.
    """

    __tablename__ = "cart_nudges"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    cart_version: Mapped[str] = mapped_column(String(96), unique=True)
    sender_id: Mapped[str] = mapped_column(String(128))
    channel: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    detail: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
