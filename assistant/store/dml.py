"""UPDATE and DELETE statements run through a session, with the number of rows they changed.

The repositories decide races and count erasures by that number (a claim that changed no
row lost to another runner). SQLAlchemy types ``Session.execute`` as a plain ``Result``,
which has no ``rowcount``; this is the one place that knows the result is a cursor's.
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import CursorResult
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import UpdateBase


def changed_rows(session: Session, statement: UpdateBase) -> int:
    """Run ``statement`` (an UPDATE or DELETE) and return how many rows it changed."""
    result = cast("CursorResult[Any]", session.execute(statement))
    return int(result.rowcount or 0)
