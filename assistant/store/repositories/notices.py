"""Notices from the store's side waiting to be told in a conversation (see ``ShopperNotice``)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from assistant.store.models import ShopperNotice, utcnow

MAX_TELL_ATTEMPTS = 120  # at the default 5 s pass: ten minutes of Rasa being unreachable


@dataclass(frozen=True)
class Recipient:
    sender_id: str
    channel: str


class NoticeRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, recipient: Recipient, text: str, order_number: str | None = None) -> ShopperNotice:
        notice = ShopperNotice(sender_id=recipient.sender_id, channel=recipient.channel, text=text,
                               order_number=order_number, created_at=utcnow())
        self.session.add(notice)
        self.session.flush()
        return notice

    def untold(self, sender_id: str) -> list[ShopperNotice]:
        statement = (select(ShopperNotice).where(ShopperNotice.sender_id == sender_id, ShopperNotice.told_at.is_(None))
                     .order_by(ShopperNotice.id))
        return list(self.session.scalars(statement))

    def mark_told(self, notices: list[ShopperNotice]) -> None:
        if notices:
            self.session.execute(update(ShopperNotice).where(ShopperNotice.id.in_([n.id for n in notices]))
                                 .values(told_at=utcnow()))

    def recipients_waiting(self) -> list[Recipient]:
        """Conversations with untold notices that have not used up their attempts (to inject the intent)."""
        statement = (
            select(ShopperNotice.sender_id, ShopperNotice.channel)
            .where(ShopperNotice.told_at.is_(None), ShopperNotice.attempts < MAX_TELL_ATTEMPTS)
            .group_by(ShopperNotice.sender_id, ShopperNotice.channel)
            .order_by(func.min(ShopperNotice.id))
        )
        return [Recipient(sender_id, channel) for sender_id, channel in self.session.execute(statement)]

    def count_attempt(self, recipient: Recipient) -> None:
        self.session.execute(
            update(ShopperNotice)
            .where(ShopperNotice.sender_id == recipient.sender_id, ShopperNotice.told_at.is_(None))
            .values(attempts=ShopperNotice.attempts + 1)
        )
