"""The human-handoff queue: requests wait, an agent takes one (active), then closes it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from assistant.store.models import HANDOFF_STATUSES, HandoffRequest, utcnow


class HandoffRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def create(
        self,
        sender_id: str,
        channel: str,
        reason: str | None = None,
        customer_id: str | None = None,
        transcript: list[dict[str, Any]] | None = None,
    ) -> HandoffRequest:
        request = HandoffRequest(
            sender_id=sender_id, channel=channel, reason=reason, customer_id=customer_id,
            transcript=transcript, status="waiting", created_at=utcnow(),
        )
        self.session.add(request)
        self.session.flush()
        return request

    def get(self, request_id: int) -> HandoffRequest | None:
        return self.session.get(HandoffRequest, request_id)

    def list_waiting(self, limit: int = 100) -> list[HandoffRequest]:
        """The queue, oldest first (first come, first served)."""
        statement = (
            select(HandoffRequest)
            .where(HandoffRequest.status == "waiting")
            .order_by(HandoffRequest.created_at, HandoffRequest.id)
            .limit(limit)
        )
        return list(self.session.scalars(statement))

    def open_for_sender(self, sender_id: str) -> HandoffRequest | None:
        """The conversation's waiting or active request: the bot stays silent while one is active."""
        statement = (
            select(HandoffRequest)
            .where(HandoffRequest.sender_id == sender_id, HandoffRequest.status.in_(("waiting", "active")))
            .order_by(HandoffRequest.created_at.desc(), HandoffRequest.id.desc())
        )
        return self.session.scalars(statement).first()

    def set_status(self, request: HandoffRequest, status: str) -> HandoffRequest:
        if status not in HANDOFF_STATUSES:
            raise ValueError(f"unknown handoff status {status!r}; expected one of {HANDOFF_STATUSES}")
        request.status = status
        self.session.flush()
        return request
