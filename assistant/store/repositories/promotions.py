"""Promotions: store-defined offers, listed for the CLI and looked up while they are valid."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from assistant.store.models import PROMOTION_KINDS, PROMOTION_SCOPES, PROMOTION_SEGMENTS, Promotion, utcnow


class PromotionRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, code: str, title: str, kind: str, value: float, **fields: Any) -> Promotion:
        """Create an offer; the choices are checked here so a CLI typo gets a clear message."""
        scope, segment = fields.get("scope", "store"), fields.get("segment", "everyone")
        if kind not in PROMOTION_KINDS:
            raise ValueError(f"kind must be one of {PROMOTION_KINDS}, not {kind!r}")
        if scope not in PROMOTION_SCOPES:
            raise ValueError(f"scope must be one of {PROMOTION_SCOPES}, not {scope!r}")
        if segment not in PROMOTION_SEGMENTS:
            raise ValueError(f"segment must be one of {PROMOTION_SEGMENTS}, not {segment!r}")
        if value <= 0 or (kind == "percent" and value >= 100):
            raise ValueError("value must be positive (and below 100 for a percentage)")
        if (scope != "store") != bool(fields.get("scope_value")):
            raise ValueError("a category or product offer needs --on NAME; a store-wide offer takes none")
        if (segment == "loyalty_tier") != bool(fields.get("segment_value")):
            raise ValueError("a loyalty_tier offer needs --tier NAME; other segments take none")
        starts, ends = fields.get("starts_at"), fields.get("ends_at")
        if starts is not None and ends is not None and ends <= starts:
            raise ValueError("the offer must end after it starts")
        promotion = Promotion(code=code, title=title, kind=kind, value=value, created_at=utcnow(), **fields)
        self.session.add(promotion)
        self.session.flush()
        return promotion

    def by_code(self, code: str) -> Promotion | None:
        return self.session.scalars(select(Promotion).where(Promotion.code == code)).first()

    def all(self) -> list[Promotion]:
        return list(self.session.scalars(select(Promotion).order_by(Promotion.id)))

    def active(self, at: datetime | None = None) -> list[Promotion]:
        """Offers valid at ``at`` (now by default), ending soonest first."""
        now = at or utcnow()
        statement = (
            select(Promotion)
            .where(or_(Promotion.starts_at.is_(None), Promotion.starts_at <= now))
            .where(or_(Promotion.ends_at.is_(None), Promotion.ends_at > now))
            .order_by(Promotion.ends_at.is_(None), Promotion.ends_at, Promotion.id)
        )
        return list(self.session.scalars(statement))
