"""Rasa's tracker store without its silent fallback to memory: a store error fails the turn.

Rasa 3.6 wraps every tracker store in ``FailSafeTrackerStore``, which logs an error and
carries on: ``retrieve`` then answers "no such conversation" (the turn runs on an empty
tracker, the conversation forgotten) and ``save`` writes to an in-memory store of that one
process (the turn never reaches PostgreSQL, so other replicas and the next restart never see
it). With conversations in the SQL tracker store, a dropped database connection would so
turn a shopper's message into a reply out of context that is then lost. Without the wrapper
the error reaches the channel: the turn fails, the web app tells the shopper honestly, and
the client's retry (same message id, :mod:`rasa_addons.message_once`) is handled once the
store answers again (SQLAlchemy replaces a dropped connection at the next use).
"""

from __future__ import annotations

from rasa.core.agent import Agent
from rasa.core.tracker_store import InMemoryTrackerStore, TrackerStore
from rasa.shared.core.domain import Domain


def unwrapped_tracker_store(store: TrackerStore | None, domain: Domain) -> TrackerStore:
    """``Agent._create_tracker_store`` without the ``FailSafeTrackerStore`` around the store."""
    store = store if store is not None else InMemoryTrackerStore(domain)
    store.domain = domain
    return store


def install() -> None:
    """Make every Agent of this process use its tracker store as configured (call before ``rasa run``)."""
    Agent._create_tracker_store = staticmethod(unwrapped_tracker_store)  # type: ignore[method-assign]
