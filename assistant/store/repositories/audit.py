"""The audit trail: what was done for or to a customer (cancellations, consent, erasure)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from assistant.store.models import AuditLog, utcnow


class AuditRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def record(
        self, customer_id: str | None, action: str, detail: dict[str, Any] | None = None, at: datetime | None = None
    ) -> AuditLog:
        entry = AuditLog(customer_id=customer_id, action=action, detail=detail, at=at or utcnow())
        self.session.add(entry)
        self.session.flush()
        return entry

    def for_customer(self, customer_id: str, limit: int = 100) -> list[AuditLog]:
        """Newest first."""
        statement = (
            select(AuditLog)
            .where(AuditLog.customer_id == customer_id)
            .order_by(AuditLog.at.desc(), AuditLog.id.desc())
            .limit(limit)
        )
        return list(self.session.scalars(statement))
