"""Analytics and satisfaction (issue #14): facts read from Rasa's events, relayed senders, CSAT answers."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from assistant.store.models.base import Base, Payload, utcnow

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
