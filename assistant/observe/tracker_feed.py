"""The demo profile's analytics feed: read the trackers of the conversations the web app relayed.

The web app notes each conversation it forwards a message for (``analytics_senders``);
a pass reads the tracker of every conversation noted since its last reading through
Rasa's HTTP API (with the API token), folds its events (:mod:`assistant.observe.fold`)
and stores the new facts. Passes run on the web app's timer
(``SHOP_ANALYTICS_INTERVAL_SECONDS``) or from ``shop-assistant analytics ingest``; they may
overlap, since facts are keyed. Conversations that never passed through the web app
(messaging channels straight into Rasa) are seen only by the production feed, the event
broker (:mod:`assistant.observe.broker_feed`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from assistant.identity import verify_customer_token
from assistant.observe.fold import Verify, fold_tracker
from assistant.rasa_api import RasaApiError, tracker_events
from assistant.settings import Settings
from assistant.store.db import Store

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FeedReport:
    conversations: int
    facts_added: int
    failed: int

    def summary(self) -> str:
        return f"{self.conversations} conversations read, {self.facts_added} new facts, {self.failed} unreadable"


def token_verifier(settings: Settings) -> Verify:
    """Customer tokens checked with the store secret, as of the moment the message was sent."""

    def verify(token: str, sent_at: float | None) -> str | None:
        return verify_customer_token(token, settings.store_secret, now=sent_at, max_ttl=settings.token_max_ttl)

    return verify


def ingest_trackers(settings: Settings, store: Store, limit: int = 500) -> FeedReport:
    """One pass over the conversations due for reading; it stops at the first tracker Rasa does not
    give (those left stay due), so a Rasa that is down costs one time-out, not one per conversation."""
    with store.unit_of_work() as uow:
        due = uow.analytics.due_senders(limit)
    verify, read, added, failed = token_verifier(settings), 0, 0, 0
    for sender, seen_at in due:
        try:
            events = tracker_events(settings, sender)
        except RasaApiError as error:
            # Rasa is most likely down: stop here, the rest stay due for the next pass.
            log.warning("analytics: a tracker could not be read, pass stopped: %s", error)
            failed += 1
            break
        with store.unit_of_work() as uow:
            analytics = uow.analytics
            added += analytics.add(fold_tracker(sender, events, verify))
            analytics.mark_read(sender, seen_at)
            uow.commit()
        read += 1
    return FeedReport(read, added, failed)
