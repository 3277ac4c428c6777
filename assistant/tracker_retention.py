"""Retention and erasure in Rasa's SQL tracker store (the production profile).

Rasa keeps every event of every conversation in the ``events`` table of its SQLTrackerStore
(one row per event, keyed by ``sender_id``, ``timestamp`` in Unix seconds) and offers no
way to delete one: ``PUT /conversations/{id}/tracker/events`` with ``[]`` only saves the
events the store does not have yet, which is none, so every row stays. Two duties
therefore reach the table directly:

- **retention**: a guest's conversation (a cookie-only web visitor, or a messaging-channel
  user linked to no customer) idle for ``SHOP_GUEST_TRACKER_DAYS`` is deleted whole
  (``shop-assistant tracker prune``, and the periodic reminder pass). Signed-in customers'
  conversations (``web-customer-*``) follow the customer and end with their erasure.
- **erasure**: "delete my data" deletes the rows of the customer's conversations.

Rasa reads a tracker from the table at every turn (no cache), so a deleted conversation
starts afresh at the next message.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from sqlalchemy import Column, Float, Integer, MetaData, String, Table, delete, func, select

from assistant.settings import Settings
from assistant.store.db import make_engine, open_store

CUSTOMER_SENDER_PREFIX = "web-customer-"  # assistant/web/sessions.py:sender_for

# The columns we touch of Rasa's SQLTrackerStore.SQLEvent (rasa/core/tracker_store.py).
_events = Table(
    "events", MetaData(),
    Column("id", Integer, primary_key=True),
    Column("sender_id", String(255)),
    Column("timestamp", Float),
)


def delete_conversations(tracker_url: str, sender_ids: Iterable[str]) -> int:
    """Delete every tracker row of these conversations; returns how many rows went."""
    senders = sorted(set(sender_ids))
    if not senders:
        return 0
    engine = make_engine(tracker_url)
    try:
        with engine.begin() as connection:
            return int(connection.execute(delete(_events).where(_events.c.sender_id.in_(senders))).rowcount or 0)
    finally:
        engine.dispose()


def prune_idle_guests(tracker_url: str, days: int, keep: Iterable[str] = (), now: float | None = None) -> int:
    """Delete the conversations of guests whose last event is older than ``days``; returns
    the number of conversations deleted. ``keep``: senders that are not guests (channel
    users linked to a customer)."""
    cutoff = (time.time() if now is None else now) - days * 24 * 3600
    idle = (
        select(_events.c.sender_id)
        .where(_events.c.sender_id.not_like(f"{CUSTOMER_SENDER_PREFIX}%"))
        .group_by(_events.c.sender_id)
        .having(func.max(_events.c.timestamp) < cutoff)
    )
    engine = make_engine(tracker_url)
    try:
        with engine.begin() as connection:
            kept = set(keep)
            senders = [sender for sender in connection.scalars(idle) if sender not in kept]
            for start in range(0, len(senders), 500):
                connection.execute(delete(_events).where(_events.c.sender_id.in_(senders[start:start + 500])))
            return len(senders)
    finally:
        engine.dispose()


def linked_channel_users(settings: Settings) -> set[str]:
    """Messaging-channel users linked to a customer (their sender ids are not guests')."""
    with open_store(settings.database_url) as store, store.unit_of_work() as uow:
        return uow.channel_links.linked_users()


def prune_guest_trackers(settings: Settings) -> int | None:
    """The retention pass for ``settings``' store: the number of guest conversations deleted,
    or ``None`` where there is no SQL tracker store (the demo profile keeps trackers in memory)."""
    if settings.profile != "production" or not settings.tracker_database_url:
        return None
    return prune_idle_guests(settings.tracker_database_url, settings.guest_tracker_days, linked_channel_users(settings))
