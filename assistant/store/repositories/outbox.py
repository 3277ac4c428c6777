"""The backend outbox table: requests to the store, written with the change and delivered later.

What the entries mean and how they travel is :mod:`assistant.backend.outbox`; this module is
only their rows. Several deliverers may run at once, so taking an entry for an attempt is a
compare-and-set on its attempt counter (:meth:`OutboxRepository.claim`): the database, not the
runners, decides who sends it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from assistant.store.dml import changed_rows
from assistant.store.models import BackendOutboxRow, utcnow


class OutboxRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, key: str, kind: str, payload: dict[str, Any], order_id: str | None) -> None:
        """Store a request under ``key`` unless one is there already (the earlier request stands)."""
        if self.session.scalar(select(BackendOutboxRow.id).where(BackendOutboxRow.idempotency_key == key)) is None:
            now = utcnow()
            self.session.add(BackendOutboxRow(
                idempotency_key=key, kind=kind, order_id=order_id, payload=payload, created_at=now, next_attempt_at=now,
            ))
            self.session.flush()

    def pending(self, limit: int) -> list[BackendOutboxRow]:
        """Entries neither delivered nor refused, oldest first (the deliverer picks the due ones)."""
        return list(self.session.scalars(
            select(BackendOutboxRow)
            .where(BackendOutboxRow.delivered_at.is_(None), BackendOutboxRow.failed_at.is_(None))
            .order_by(BackendOutboxRow.id)
            .limit(limit)
        ))

    def claim(self, row: BackendOutboxRow, lease_until: datetime) -> bool:
        """Take ``row`` for one more attempt until ``lease_until``; ``False`` when another runner took it first."""
        changed = changed_rows(
            self.session,
            update(BackendOutboxRow)
            .where(
                BackendOutboxRow.id == row.id,
                BackendOutboxRow.attempts == row.attempts,
                BackendOutboxRow.delivered_at.is_(None),
                BackendOutboxRow.failed_at.is_(None),
            )
            .values(attempts=row.attempts + 1, next_attempt_at=lease_until)
            .execution_options(synchronize_session=False),
        )
        return changed == 1

    def delivered(self, entry_id: int) -> None:
        self._set(entry_id, delivered_at=utcnow(), last_error=None)

    def retry_at(self, entry_id: int, error: str, when: datetime) -> None:
        """The attempt failed for now: try again at ``when``."""
        self._set(entry_id, last_error=error, next_attempt_at=when)

    def refused(self, entry_id: int, error: str) -> None:
        """The store will never accept this entry: parked for a person."""
        self._set(entry_id, last_error=error, failed_at=utcnow())

    def _set(self, entry_id: int, **values: Any) -> None:
        self.session.execute(update(BackendOutboxRow).where(BackendOutboxRow.id == entry_id).values(**values))

    def not_taken(self, limit: int = 200) -> list[BackendOutboxRow]:
        """Requests the store has not taken yet (waiting or refused), oldest first: what the console shows."""
        return list(self.session.scalars(
            select(BackendOutboxRow)
            .where(BackendOutboxRow.delivered_at.is_(None))
            .order_by(BackendOutboxRow.id)
            .limit(limit)
        ))

    def backlog(self, created_before: datetime) -> bool:
        """Whether a request made before ``created_before`` still waits after a failed attempt."""
        statement = select(BackendOutboxRow.id).where(
            BackendOutboxRow.delivered_at.is_(None), BackendOutboxRow.failed_at.is_(None),
            BackendOutboxRow.last_error.is_not(None), BackendOutboxRow.created_at <= created_before,
        ).limit(1)
        return self.session.scalar(statement) is not None
