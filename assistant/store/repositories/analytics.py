"""The analytics tables: facts folded from Rasa's events, conversations to read, CSAT answers.

Facts are inserted with ``ON CONFLICT DO NOTHING`` on their event key, so two feeds (or
one feed twice) never count an event twice. A customer who refused personalization is
not linked to their facts (``customer_id`` stays empty): their chats count in the shop's
totals but are never tied to their orders. Erasure anonymizes (:meth:`forget`).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence
from dataclasses import asdict
from datetime import datetime

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from assistant.observe.fold import Fact
from assistant.store.dml import changed_rows
from assistant.store.models import AnalyticsEvent, AnalyticsSender, CsatRating, Customer, HandoffRequest, utcnow
from assistant.store.upsert import dialect_insert, upsert_rows


class AnalyticsRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def channels(self) -> list[str]:
        """The channels conversations came through, sorted (the dashboard's filter)."""
        return sorted(set(self.session.scalars(select(AnalyticsEvent.channel).distinct())))

    def add(self, facts: Sequence[Fact]) -> int:
        """Store the facts not stored yet; returns how many were new."""
        if not facts:
            return 0
        keys = {fact.event_key for fact in facts}
        known = set(self.session.scalars(select(AnalyticsEvent.event_key).where(AnalyticsEvent.event_key.in_(keys))))
        refused = self._refused({fact.customer_id for fact in facts if fact.customer_id})
        rows = [
            {**asdict(fact), "customer_id": None if fact.customer_id in refused else fact.customer_id}
            for fact in facts if fact.event_key not in known
        ]
        upsert_rows(self.session, AnalyticsEvent.__table__, rows, conflict_on=["event_key"])
        return len({row["event_key"] for row in rows})

    def _refused(self, customer_ids: set[str | None]) -> set[str]:
        if not customer_ids:
            return set()
        return set(self.session.scalars(
            select(Customer.id).where(Customer.id.in_(customer_ids), Customer.personalization_consent.is_(False))
        ))

    def note_sender(self, sender_id: str, at: datetime | None = None) -> None:
        """Remember that ``sender_id`` spoke (the demo feed reads its tracker on the next pass)."""
        insert = dialect_insert(self.session, AnalyticsSender.__table__)
        at = at or utcnow()
        self.session.execute(
            insert.values(sender_id=sender_id, seen_at=at).on_conflict_do_update(
                index_elements=["sender_id"], set_={"seen_at": at}
            )
        )

    def due_senders(self, limit: int = 500) -> list[tuple[str, datetime]]:
        """Conversations with messages since their tracker was last read, oldest first."""
        rows = self.session.execute(
            select(AnalyticsSender.sender_id, AnalyticsSender.seen_at)
            .where(or_(AnalyticsSender.read_at.is_(None), AnalyticsSender.read_at < AnalyticsSender.seen_at))
            .order_by(AnalyticsSender.seen_at)
            .limit(limit)
        )
        return [(sender, seen) for sender, seen in rows]

    def mark_read(self, sender_id: str, seen_at: datetime) -> None:
        """The tracker was read up to ``seen_at`` (a message noted during the read stays due)."""
        self.session.execute(
            update(AnalyticsSender).where(AnalyticsSender.sender_id == sender_id).values(read_at=seen_at)
        )

    def add_rating(
        self, sender_id: str, customer_id: str | None, channel: str, rating: int, comment: str | None = None,
        handoff_id: int | None = None,
    ) -> CsatRating:
        row = CsatRating(sender_id=sender_id, customer_id=customer_id, channel=channel, rating=rating,
                         comment=comment, handoff_id=handoff_id, at=utcnow())
        self.session.add(row)
        self.session.flush()
        return row

    def last_closed_handoff(self, sender_id: str) -> int | None:
        """The id of the conversation's most recently closed handoff (a rating after it is about it)."""
        return self.session.scalar(
            select(HandoffRequest.id).where(HandoffRequest.sender_id == sender_id, HandoffRequest.status == "closed")
            .order_by(HandoffRequest.closed_at.desc(), HandoffRequest.id.desc()).limit(1)
        )

    def ratings_for(self, sender_ids: Iterable[str]) -> list[CsatRating]:
        """The ratings given in these conversations, newest first (shown beside them in the console)."""
        return list(self.session.scalars(
            select(CsatRating).where(CsatRating.sender_id.in_(set(sender_ids))).order_by(CsatRating.at.desc())
        ))

    def forget(self, customer_id: str, sender_ids: set[str]) -> int:
        """Anonymize what names the customer or quotes their words: each conversation moves to a
        fresh pseudonym (its counts stay whole and still group together), the customer link and
        every kept word (fallback text, failed searches, CSAT comments) go. Returns the rows changed."""
        senders = set(sender_ids) | set(self.session.scalars(
            select(AnalyticsEvent.sender_id).where(AnalyticsEvent.customer_id == customer_id).distinct()
        )) | set(self.session.scalars(select(CsatRating.sender_id).where(CsatRating.customer_id == customer_id)))
        changed = 0
        for sender in senders:
            pseudonym = f"erased-{secrets.token_hex(8)}"
            changed += changed_rows(
                self.session,
                update(AnalyticsEvent).where(AnalyticsEvent.sender_id == sender).values(sender_id=pseudonym, customer_id=None, text=None),
            )
            changed += changed_rows(
                self.session,
                update(CsatRating).where(CsatRating.sender_id == sender).values(sender_id=pseudonym, customer_id=None, comment=None),
            )
        self.session.execute(delete(AnalyticsSender).where(AnalyticsSender.sender_id.in_(senders)))
        return changed
