"""Orders with their items, shipment and refund, and the returns shoppers start in chat."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from assistant.store.models.base import Base, Money, Payload, utcnow

if TYPE_CHECKING:
    from assistant.store.models.catalog import Product
    from assistant.store.models.customers import Customer


CANCELLABLE_STATUSES = ("placed", "paid")
# Asked in chat, waiting for the store to confirm or refuse (store backend, migration 0007).
CANCELLATION_REQUESTED = "cancellation_requested"


class Order(Base):
    __tablename__ = "orders"
    __table_args__ = (Index("ix_orders_customer_id_placed_at", "customer_id", "placed_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    order_number: Mapped[str] = mapped_column(String(64), unique=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"))
    email: Mapped[str | None] = mapped_column(String(320))
    status: Mapped[str] = mapped_column(String(32))
    placed_at: Mapped[datetime] = mapped_column()
    total: Mapped[float | None] = mapped_column(Money())
    currency: Mapped[str | None] = mapped_column(String(3))
    payment_method: Mapped[str | None] = mapped_column(String(64))
    cancelled_at: Mapped[datetime | None] = mapped_column()
    # Store backend (migration 0007): who set the status last ("import", "assistant" or "store")
    # and when, so a history import never overwrites a newer state the store reported.
    status_source: Mapped[str | None] = mapped_column(String(16))
    status_updated_at: Mapped[datetime | None] = mapped_column()
    # The conversation that last asked the store something about this order (a cancellation, a
    # return): where the store's answer is told. Else the customer's last conversation.
    notify_sender_id: Mapped[str | None] = mapped_column(String(128))
    notify_channel: Mapped[str | None] = mapped_column(String(64))

    customer: Mapped[Customer] = relationship(back_populates="orders")
    items: Mapped[list[OrderItem]] = relationship(back_populates="order", cascade="all, delete-orphan")
    shipment: Mapped[Shipment | None] = relationship(back_populates="order", cascade="all, delete-orphan")
    refund: Mapped[Refund | None] = relationship(back_populates="order", cascade="all, delete-orphan")


class OrderItem(Base):
    __tablename__ = "order_items"

    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), primary_key=True)
    product_id: Mapped[str] = mapped_column(ForeignKey("products.id"), primary_key=True, index=True)
    quantity: Mapped[int] = mapped_column()
    unit_price: Mapped[float | None] = mapped_column(Money())

    order: Mapped[Order] = relationship(back_populates="items")
    product: Mapped[Product] = relationship()


class Shipment(Base):
    """One shipment per order (the demo store and most small shops ship in one parcel)."""

    __tablename__ = "shipments"

    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), primary_key=True)
    carrier: Mapped[str | None] = mapped_column(String(64))
    tracking_number: Mapped[str | None] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(32))
    shipped_at: Mapped[datetime | None] = mapped_column()
    estimated_delivery: Mapped[datetime | None] = mapped_column()
    delivered_at: Mapped[datetime | None] = mapped_column()
    delay_reason: Mapped[str | None] = mapped_column(Text)

    order: Mapped[Order] = relationship(back_populates="shipment")


class Refund(Base):
    __tablename__ = "refunds"

    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), primary_key=True)
    status: Mapped[str] = mapped_column(String(32))
    amount: Mapped[float | None] = mapped_column(Money())
    refunded_at: Mapped[datetime | None] = mapped_column()

    order: Mapped[Order] = relationship(back_populates="refund")


RETURN_STATUSES = ("requested", "approved", "rejected", "received", "refunded", "cancelled")
REFUND_METHODS = ("original_payment", "store_credit", "exchange")


class ReturnRequest(Base):
    """A return the shopper started in chat; its status afterwards comes from the store's updates."""

    __tablename__ = "return_requests"
    __table_args__ = (
        CheckConstraint(
            "status IN ('requested', 'approved', 'rejected', 'received', 'refunded', 'cancelled')", name="status"
        ),
        CheckConstraint("refund_method IN ('original_payment', 'store_credit', 'exchange')", name="refund_method"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    items: Mapped[list[dict[str, Any]]] = mapped_column(Payload, nullable=False)
    reason: Mapped[str] = mapped_column(Text)
    refund_method: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="requested")
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    order: Mapped[Order] = relationship()
