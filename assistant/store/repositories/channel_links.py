"""Messaging accounts linked to customers: one shopper across WhatsApp, Messenger, Instagram, SMS and Slack.

The Rasa process writes and reads these rows when a shopper sends a link token or says
"unlink" (``rasa_addons/account_links.py``, on Rasa's own SQLAlchemy); this repository is
the store's side of the same table: what a customer has linked (export) and removing all of
it when they are erased.
"""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from assistant.store.dml import changed_rows
from assistant.store.models import ChannelLink, utcnow


class ChannelLinkRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def link(self, channel: str, channel_user_id: str, customer_id: str) -> None:
        """Link the account to ``customer_id`` (a later link of the same account replaces it)."""
        row = self.session.get(ChannelLink, (channel, channel_user_id))
        if row is None:
            self.session.add(ChannelLink(channel=channel, channel_user_id=channel_user_id, customer_id=customer_id))
        else:
            row.customer_id, row.linked_at = customer_id, utcnow()
        self.session.flush()

    def customer_for(self, channel: str, channel_user_id: str) -> str | None:
        row = self.session.get(ChannelLink, (channel, channel_user_id))
        return row.customer_id if row else None

    def of_customer(self, customer_id: str) -> list[ChannelLink]:
        return list(self.session.scalars(
            select(ChannelLink).where(ChannelLink.customer_id == customer_id).order_by(ChannelLink.linked_at)
        ))

    def linked_users(self) -> set[str]:
        """Every linked messaging account's user id (their conversations are a customer's, not a guest's)."""
        return set(self.session.scalars(select(ChannelLink.channel_user_id)))

    def forget_customer(self, customer_id: str) -> int:
        """Remove every link of the customer (erasure); the number removed."""
        return changed_rows(self.session, delete(ChannelLink).where(ChannelLink.customer_id == customer_id))
