"""Return requests started in chat, and the store's later word on them."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from assistant.store.models import Order, ReturnRequest, utcnow

ReturnOutcome = Literal["applied", "unchanged", "stale"]


def new_return_number() -> str:
    """``RT-`` and ten random hex digits: unguessable, so a number alone reveals no one's return."""
    return f"RT-{secrets.token_hex(5).upper()}"


class ReturnRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def create(self, order: Order, items: list[dict[str, Any]], reason: str, refund_method: str,
               now: datetime | None = None) -> ReturnRequest:
        at = now or utcnow()
        request = ReturnRequest(number=new_return_number(), order=order, items=items, reason=reason,
                                refund_method=refund_method, status="requested", created_at=at, updated_at=at)
        self.session.add(request)
        self.session.flush()
        return request

    def by_number(self, number: str) -> ReturnRequest | None:
        statement = select(ReturnRequest).options(selectinload(ReturnRequest.order)).where(
            ReturnRequest.number == number.strip().upper()
        )
        return self.session.scalars(statement).first()

    def for_customer(self, customer_id: str, limit: int = 5) -> list[ReturnRequest]:
        """The customer's return requests, newest first."""
        statement = (
            select(ReturnRequest).join(Order, Order.id == ReturnRequest.order_id)
            .options(selectinload(ReturnRequest.order))
            .where(Order.customer_id == customer_id)
            .order_by(ReturnRequest.created_at.desc(), ReturnRequest.id.desc()).limit(limit)
        )
        return list(self.session.scalars(statement))

    def for_order(self, order: Order) -> list[ReturnRequest]:
        statement = select(ReturnRequest).where(ReturnRequest.order_id == order.id).order_by(ReturnRequest.id)
        return list(self.session.scalars(statement))

    def apply_store_status(self, request: ReturnRequest, status: str, at: datetime, note: str | None) -> ReturnOutcome:
        """The store's word on a return, unless older than the last change we hold."""
        if at < request.updated_at:
            return "stale"
        changed = request.status != status or (note and note != request.note)
        request.status, request.updated_at = status, at
        if note:
            request.note = note
        self.session.flush()
        return "applied" if changed else "unchanged"
