"""The human-handoff queue and the support agents who take its conversations."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column

from assistant.store.models.base import Base, Payload, utcnow

HANDOFF_STATUSES = ("waiting", "active", "closed")


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
