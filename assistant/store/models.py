"""Typed declarative models of the customer store.

The tables are created by the Alembic migrations, never by ``create_all``; the tests
compare the migrated schema with these models so the two cannot drift apart.  Times are
stored in UTC and always come back timezone-aware (SQLite keeps no zone, PostgreSQL does),
and money comes back as ``float`` so that replies can be serialised to JSON directly.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    CheckConstraint,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    TypeDecorator,
    false,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

EVENT_TYPES = ("view", "search", "add_to_cart", "remove_from_cart", "purchase")
HANDOFF_STATUSES = ("waiting", "active", "closed")
CANCELLABLE_STATUSES = ("placed", "paid")
# Asked in chat, waiting for the store to confirm or refuse (store backend, migration 0007).
CANCELLATION_REQUESTED = "cancellation_requested"


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC (what every timestamp column holds)."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and returned timezone-aware on every database."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Money(TypeDecorator[float]):
    """An exact decimal column read back as ``float`` (SQLite hands whole amounts back as ``int``)."""

    impl = Numeric(12, 2, asdecimal=False)
    cache_ok = True

    def process_result_value(self, value: Any, dialect: Dialect) -> float | None:
        return None if value is None else float(value)


Payload = JSON().with_variant(JSONB(), "postgresql")


class Base(DeclarativeBase):
    __table__: ClassVar[Table]  # every model maps one table (SQLAlchemy types it as any FROM clause)
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: Payload}


class Customer(Base):
    __tablename__ = "customers"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    email: Mapped[str | None] = mapped_column(String(320), unique=True)
    name: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    loyalty_tier: Mapped[str | None] = mapped_column(String(32))
    personalization_consent: Mapped[bool | None] = mapped_column()
    marketing_consent: Mapped[bool] = mapped_column(default=False)
    # Personalization (migration 0003): when the bot asked for consent (asked once), where the
    # customer last chatted (so a cart reminder reaches them there) and their IANA time zone.
    consent_asked_at: Mapped[datetime | None] = mapped_column()
    last_channel: Mapped[str | None] = mapped_column(String(64))
    last_sender_id: Mapped[str | None] = mapped_column(String(128), index=True)
    last_seen_at: Mapped[datetime | None] = mapped_column()
    time_zone: Mapped[str | None] = mapped_column(String(64))

    orders: Mapped[list[Order]] = relationship(back_populates="customer", order_by="Order.placed_at.desc()")


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


class HandoffRequest(Base):
    __tablename__ = "handoff_requests"
    __table_args__ = (
        Index("ix_handoff_requests_status_created_at", "status", "created_at"),
        CheckConstraint("status IN ('waiting', 'active', 'closed')", name="status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    sender_id: Mapped[str] = mapped_column(String(128), index=True)
    customer_id: Mapped[str | None] = mapped_column(ForeignKey("customers.id", ondelete="SET NULL"))
    channel: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="waiting")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    transcript: Mapped[list[dict[str, Any]] | None] = mapped_column(Payload)
    # Agent console (migration 0002): who holds the conversation, since when, and what a
    # shopper left for the team outside support hours.
    claimed_by: Mapped[int | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"))
    claimed_at: Mapped[datetime | None] = mapped_column()
    closed_at: Mapped[datetime | None] = mapped_column()
    closed_how: Mapped[str | None] = mapped_column(String(16))  # "bot" (handed back) or "closed"
    after_hours: Mapped[bool] = mapped_column(default=False)
    left_message: Mapped[str | None] = mapped_column(Text)


class AuditLog(Base):
    """What was done for or to a customer; no foreign key so it outlives "forget me"."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_customer_id_at", "customer_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    customer_id: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    detail: Mapped[dict[str, Any] | None] = mapped_column()


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


AGENT_ROLES = ("agent", "admin")


class Agent(Base):
    """A support agent of the console; admins may read and take over any conversation."""

    __tablename__ = "agents"
    __table_args__ = (CheckConstraint("role IN ('agent', 'admin')", name="role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), default="agent")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # What shoppers see ("Sam"); the username is a login name and never leaves the console.
    display_name: Mapped[str] = mapped_column(String(64), default="Support", server_default="Support")
    disabled: Mapped[bool] = mapped_column(default=False, server_default=false())
    # Raised by a password reset or a disable: sessions started under an older value end.
    session_epoch: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


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


class ChannelLink(Base):
    """A messaging account (a WhatsApp number, a Messenger id...) linked to a customer by a link token.

    Written by the Rasa process when the shopper sends the token on the channel, deleted when
    they say "unlink" and with the customer on erasure; without a row the shopper is a guest.
    """

    __tablename__ = "channel_links"

    channel: Mapped[str] = mapped_column(String(32), primary_key=True)
    channel_user_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    linked_at: Mapped[datetime] = mapped_column(default=utcnow)


# Platform sync (issue #17, migration 0008): where each `shop-assistant sync` stopped, and which
# platform order each imported order is, so a cancel or return reaches the right record there.
class SyncCursor(Base):
    """The newest ``updated_at`` imported from a platform's products or orders; the next sync starts there."""

    __tablename__ = "sync_cursors"

    platform: Mapped[str] = mapped_column(String(32), primary_key=True)
    resource: Mapped[str] = mapped_column(String(32), primary_key=True)
    cursor: Mapped[str] = mapped_column(String(64))
    synced_at: Mapped[datetime] = mapped_column(default=utcnow)


class PlatformOrder(Base):
    """An order imported from a platform: our order number beside the platform's own id (a Shopify gid...)."""

    __tablename__ = "platform_orders"
    __table_args__ = (Index("ix_platform_orders_platform_external_id", "platform", "external_id", unique=True),)

    order_number: Mapped[str] = mapped_column(ForeignKey("orders.order_number", ondelete="CASCADE"), primary_key=True)
    platform: Mapped[str] = mapped_column(String(32))
    external_id: Mapped[str] = mapped_column(String(128))


OUTBOX_KINDS = (
    "cancellation_requested", "return_requested", "cart_changed", "handoff_opened", "handoff_closed",
    "alert_changed", "consent_changed",
)


class BackendOutboxRow(Base):
    """A request to the store's own systems, written in the same transaction as the change it reports.

    ``order_id`` is the order *number* the store knows (no foreign key: the request outlives
    an erased customer); the deliverer sends the entries of one order in ``id`` order. A row
    is pending until ``delivered_at`` is set, or ``failed_at`` when the store refused it for good.
    """

    __tablename__ = "backend_outbox"
    __table_args__ = (
        Index("ix_backend_outbox_delivered_at_next_attempt_at", "delivered_at", "next_attempt_at"),
        Index("ix_backend_outbox_order_id_id", "order_id", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    idempotency_key: Mapped[str] = mapped_column(String(128), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    order_id: Mapped[str | None] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column()
    failed_at: Mapped[datetime | None] = mapped_column()
    last_error: Mapped[str | None] = mapped_column(Text)


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


class ShopperNotice(Base):
    """A message from the store's side for one conversation ("your cancellation is confirmed").

    Written with the update that causes it; the web app then injects the external intent
    ``store_update`` and ``action_store_update`` shows the conversation's untold notices and
    marks them told, so a notice reaches the shopper once even if Rasa was down at first.
    """

    __tablename__ = "shopper_notices"
    __table_args__ = (Index("ix_shopper_notices_sender_id_told_at", "sender_id", "told_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    sender_id: Mapped[str] = mapped_column(String(128))
    channel: Mapped[str] = mapped_column(String(64))
    order_number: Mapped[str | None] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    attempts: Mapped[int] = mapped_column(default=0)
    told_at: Mapped[datetime | None] = mapped_column()
# Analytics and satisfaction (issue #14): facts read from Rasa's events, and CSAT answers.
ANALYTICS_KINDS = (
    "conversation_start", "message", "proactive", "fallback", "handoff", "products_shown", "search_zero",
    "add_to_cart", "cart_shown",
)


class AnalyticsEvent(Base):
    """One fact about a conversation, folded from Rasa's events (:mod:`assistant.observe.fold`).

    ``event_key`` (a digest of sender, Rasa's timestamp, kind and content) is unique, so
    reading the same tracker or broker message twice adds nothing. ``text`` is kept only
    where a figure needs it (the message the bot did not understand, a search that found
    nothing); ``customer_id`` only from a verified token. Erasing a customer anonymizes
    their rows (:meth:`AnalyticsRepository.forget`), so the shop's counts stay whole.
    """

    __tablename__ = "analytics_events"
    __table_args__ = (
        CheckConstraint("kind IN (" + ", ".join(f"'{kind}'" for kind in ANALYTICS_KINDS) + ")", name="kind"),
        Index("ix_analytics_events_at_kind", "at", "kind"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_key: Mapped[str] = mapped_column(String(64), unique=True)
    sender_id: Mapped[str] = mapped_column(String(128), index=True)
    customer_id: Mapped[str | None] = mapped_column(String(64), index=True)
    channel: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column()
    intent: Mapped[str | None] = mapped_column(String(64))
    text: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str | None] = mapped_column(String(16))
    product_ids: Mapped[list[str] | None] = mapped_column(Payload)


class AnalyticsSender(Base):
    """A conversation the web app relayed, and when its tracker was last read (the demo profile's feed)."""

    __tablename__ = "analytics_senders"

    sender_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column()


class CsatRating(Base):
    """A shopper's 1-5 answer to "how did we do?", after a handoff closed or a conversation ended."""

    __tablename__ = "csat_ratings"
    __table_args__ = (CheckConstraint("rating BETWEEN 1 AND 5", name="rating"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    sender_id: Mapped[str] = mapped_column(String(128), index=True)
    customer_id: Mapped[str | None] = mapped_column(String(64), index=True)
    channel: Mapped[str] = mapped_column(String(64))
    rating: Mapped[int] = mapped_column()
    comment: Mapped[str | None] = mapped_column(Text)
    handoff_id: Mapped[int | None] = mapped_column(ForeignKey("handoff_requests.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
