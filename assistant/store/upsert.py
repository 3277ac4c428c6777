"""``INSERT ... ON CONFLICT`` for SQLite and PostgreSQL behind one function.

Both engines speak the same upsert; SQLAlchemy exposes it per dialect.  Imports use it
to be idempotent in bulk, and the cart uses it to add to a line atomically when two
requests for the same shopper race.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

BATCH_SIZE = 2000


def dialect_insert(session: Session, table: Table) -> sqlite.Insert | postgresql.Insert:
    """An insert with ``on_conflict_do_update``/``on_conflict_do_nothing`` for the session's database."""
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        return sqlite.insert(table)
    if dialect == "postgresql":
        return postgresql.insert(table)
    raise NotImplementedError(f"upsert is not implemented for {dialect}")


def upsert_rows(
    session: Session,
    table: Table,
    rows: Iterable[Mapping[str, Any]],
    conflict_on: Sequence[str] | None,
    update: Sequence[str] = (),
    batch_size: int = BATCH_SIZE,
) -> int:
    """Upsert ``rows`` in batches of executemany; returns how many rows were sent.

    On a conflict on ``conflict_on`` the columns named in ``update`` take the incoming
    values; with no ``update`` the existing row is kept (``conflict_on=None``: any key).
    """
    insert = dialect_insert(session, table)
    statement = (
        insert.on_conflict_do_update(
            index_elements=conflict_on, set_={name: insert.excluded[name] for name in update}
        )
        if update
        else insert.on_conflict_do_nothing(index_elements=conflict_on)
    )
    sent = 0
    batch: list[Mapping[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= batch_size:
            session.execute(statement, batch)
            sent += len(batch)
            batch = []
    if batch:
        session.execute(statement, batch)
        sent += len(batch)
    return sent
