"""The store's own systems: requests to them (outbox), their words for shoppers, platform sync state."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from assistant.store.models.base import Base, utcnow

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
