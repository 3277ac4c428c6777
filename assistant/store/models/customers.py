"""Customers, the messaging accounts linked to them, and what was done for or to them (audit)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from assistant.store.models.base import Base, utcnow

if TYPE_CHECKING:
    from assistant.store.models.orders import Order


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


class AuditLog(Base):
    """What was done for or to a customer; no foreign key so it outlives "forget me"."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_customer_id_at", "customer_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    customer_id: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    detail: Mapped[dict[str, Any] | None] = mapped_column()
