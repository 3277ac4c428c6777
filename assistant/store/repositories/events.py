"""Shopper events (views, searches, cart changes, purchases) for personalization."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from assistant.store.models import EVENT_TYPES, Event, utcnow


class EventRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def record(
        self,
        type: str,
        customer_id: str | None = None,
        session_id: str | None = None,
        product_id: str | None = None,
        query: str | None = None,
        at: datetime | None = None,
    ) -> Event:
        """Add one event; it needs a known customer or an anonymous session to belong to."""
        if type not in EVENT_TYPES:
            raise ValueError(f"unknown event type {type!r}; expected one of {EVENT_TYPES}")
        if customer_id is None and session_id is None:
            raise ValueError("an event needs a customer_id or a session_id")
        event = Event(
            type=type, customer_id=customer_id, session_id=session_id,
            product_id=product_id, query=query, at=at or utcnow(),
        )
        self.session.add(event)
        self.session.flush()
        return event

    def recent_for_customer(self, customer_id: str, limit: int = 100) -> list[Event]:
        """Newest first."""
        statement = (
            select(Event).where(Event.customer_id == customer_id).order_by(Event.at.desc(), Event.id.desc()).limit(limit)
        )
        return list(self.session.scalars(statement))
