"""The human-handoff queue: requests wait, an agent takes one (active), then closes it.

Claiming is one conditional ``UPDATE ... WHERE status = 'waiting'``, so when two agents
click "claim" at once the database, not the web app, decides who got it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import case, func, select, update
from sqlalchemy.orm import Session

from assistant.store.dml import changed_rows
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
        after_hours: bool = False,
    ) -> HandoffRequest:
        request = HandoffRequest(
            sender_id=sender_id, channel=channel, reason=reason, customer_id=customer_id,
            transcript=transcript, status="waiting", created_at=utcnow(), after_hours=after_hours,
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

    def list_open(self, limit: int = 200) -> list[HandoffRequest]:
        """Waiting and active requests, oldest first: what the console lists."""
        statement = (
            select(HandoffRequest)
            .where(HandoffRequest.status.in_(("waiting", "active")))
            .order_by(HandoffRequest.created_at, HandoffRequest.id)
            .limit(limit)
        )
        return list(self.session.scalars(statement))

    def console_page(self, limit: int) -> tuple[list[HandoffRequest], int]:
        """The open requests the agent console lists, and how many are open in all.

        Held conversations first, then waiting requests of signed-in customers (their token
        is signed by the store), then guests' (free to create, so a flood of them cannot
        push a customer off the list); oldest first within each.
        """
        is_open = HandoffRequest.status.in_(("waiting", "active"))
        rank = case((HandoffRequest.status == "active", 0), (HandoffRequest.customer_id.is_not(None), 1), else_=2)
        rows = self.session.scalars(
            select(HandoffRequest).where(is_open).order_by(rank, HandoffRequest.created_at, HandoffRequest.id).limit(limit)
        )
        total = self.session.scalar(select(func.count()).select_from(HandoffRequest).where(is_open))
        return list(rows), int(total or 0)

    def waiting_ahead(self, request: HandoffRequest) -> int:
        """How many waiting requests came before this one."""
        statement = select(func.count()).where(
            HandoffRequest.status == "waiting", HandoffRequest.created_at < request.created_at
        )
        return int(self.session.scalar(statement) or 0)

    def recent_claim_waits(self, since: datetime, limit: int = 20) -> list[float]:
        """Seconds from request to claim of the latest claimed requests since ``since``."""
        statement = (
            select(HandoffRequest.created_at, HandoffRequest.claimed_at)
            .where(HandoffRequest.claimed_at.is_not(None), HandoffRequest.claimed_at >= since)
            .order_by(HandoffRequest.claimed_at.desc())
            .limit(limit)
        )
        rows = self.session.execute(statement)
        return [(claimed - created).total_seconds() for created, claimed in rows if claimed is not None]  # None: excluded above

    def claim(self, request_id: int, agent_id: int) -> bool:
        """Give a waiting request to ``agent_id``; ``False`` when someone else was faster."""
        changed = changed_rows(
            self.session,
            update(HandoffRequest)
            .where(HandoffRequest.id == request_id, HandoffRequest.status == "waiting")
            .values(status="active", claimed_by=agent_id, claimed_at=utcnow())
            .execution_options(synchronize_session=False),
        )
        self.session.expire_all()
        return changed == 1

    def close(self, request: HandoffRequest, how: str) -> HandoffRequest:
        """End the handoff: ``how`` is "bot" (handed back to the bot) or "closed"."""
        request.status, request.closed_at, request.closed_how = "closed", utcnow(), how
        self.session.flush()
        return request
