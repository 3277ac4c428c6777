"""The store's mirror of the catalog, and what hangs off its products: promotions and shoppers' alerts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from assistant.store.models.base import Base, Money, utcnow


class Product(Base):
    """A mirror of the catalog so orders, carts and events can join on products."""

    __tablename__ = "products"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    title: Mapped[str] = mapped_column(Text)
    brand: Mapped[str | None] = mapped_column(String(200))
    category: Mapped[str | None] = mapped_column(String(200))
    subcategory: Mapped[str | None] = mapped_column(String(200))
    price: Mapped[float | None] = mapped_column(Money())
    currency: Mapped[str | None] = mapped_column(String(3))
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)


PROMOTION_KINDS = ("percent", "amount")
PROMOTION_SCOPES = ("store", "category", "product")
PROMOTION_SEGMENTS = ("everyone", "new_customers", "loyalty_tier")


class Promotion(Base):
    """An offer: ``value`` percent or currency off, on the store, a category or a product.

    Segments are behavioural or contractual only (everyone, customers without an order,
    a loyalty tier); the table has no room for protected attributes on purpose.
    """

    __tablename__ = "promotions"
    __table_args__ = (
        CheckConstraint("kind IN ('percent', 'amount')", name="kind"),
        CheckConstraint("scope IN ('store', 'category', 'product')", name="scope"),
        CheckConstraint("segment IN ('everyone', 'new_customers', 'loyalty_tier')", name="segment"),
        CheckConstraint("value > 0", name="positive_value"),
        Index("ix_promotions_starts_at_ends_at", "starts_at", "ends_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))
    value: Mapped[float] = mapped_column(Money())
    scope: Mapped[str] = mapped_column(String(16), default="store")
    scope_value: Mapped[str | None] = mapped_column(String(200))
    min_basket: Mapped[float | None] = mapped_column(Money())
    segment: Mapped[str] = mapped_column(String(16), default="everyone")
    segment_value: Mapped[str | None] = mapped_column(String(32))
    starts_at: Mapped[datetime | None] = mapped_column()
    ends_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


ALERT_KINDS = ("back_in_stock", "price_drop")
ALERT_STATUSES = ("active", "sending", "sent", "failed", "cancelled")


class ProductAlert(Base):
    """A shopper's "tell me when it's back" or "tell me if it gets cheaper" on one product.

    ``reference_price`` is the price when the alert was set: a price-drop alert fires when
    the catalog price falls below it. The row is kept after it fires (``sent``) or is
    cancelled, as the record of what was sent; "forget me" deletes it with the customer.
    """

    __tablename__ = "product_alerts"
    __table_args__ = (
        CheckConstraint("kind IN ('back_in_stock', 'price_drop')", name="kind"),
        CheckConstraint("status IN ('active', 'sending', 'sent', 'failed', 'cancelled')", name="status"),
        Index("ix_product_alerts_status_customer_id", "status", "customer_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    product_id: Mapped[str] = mapped_column(ForeignKey("products.id"))
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="active")
    reference_price: Mapped[float | None] = mapped_column(Money())
    currency: Mapped[str | None] = mapped_column(String(3))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    attempts: Mapped[int] = mapped_column(default=0)
    fired_at: Mapped[datetime | None] = mapped_column()
    channel: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[str | None] = mapped_column(Text)

    product: Mapped[Product] = relationship()
