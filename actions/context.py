"""Shared resources of the action server, created lazily once per process.

Loading the embedding model and the FAISS index takes seconds and opening a database
engine needs the settings, so nothing happens at import time: the first action that needs
a resource creates it, and every later call reuses it. Each action call still opens its
own :class:`UnitOfWork` (one transaction per call, never a session shared across calls).
Tests point the whole server at a store of their own with :func:`use_settings`.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from rasa_sdk import Tracker

from assistant.identity import verify_customer_token
from assistant.settings import Settings, load_settings
from assistant.store.db import Store, UnitOfWork, open_store
from assistant.store_policy import StorePolicy, load_store_policy
from catalog_index.errors import IndexUnavailable

if TYPE_CHECKING:
    from catalog_index.search import CatalogSearcher


class _Resources:
    """Everything the actions share, each part built on first use under one lock."""

    def __init__(self, settings: Settings | None = None) -> None:
        self._lock = threading.Lock()
        self._settings = settings
        self._store: Store | None = None
        self._searcher: CatalogSearcher | None = None
        self._policy: StorePolicy | None = None

    @property
    def settings(self) -> Settings:
        with self._lock:
            if self._settings is None:
                self._settings = load_settings()
            return self._settings

    def store(self) -> Store:
        settings = self.settings
        with self._lock:
            if self._store is None:
                self._store = open_store(settings.database_url)
            return self._store

    def searcher(self) -> CatalogSearcher:
        settings = self.settings
        with self._lock:
            if self._searcher is None:
                from catalog_index.search import CatalogSearcher

                try:
                    self._searcher = CatalogSearcher.load(settings.index_dir, settings.embedding)
                except Exception as error:
                    raise IndexUnavailable(f"cannot load the catalog index at {settings.index_dir}") from error
            return self._searcher

    def loaded(self) -> bool:
        """Whether the searcher is loaded, without loading it (the search status route asks)."""
        return self._searcher is not None

    def policy(self) -> StorePolicy:
        settings = self.settings
        with self._lock:
            if self._policy is None:
                self._policy = load_store_policy(settings.policy_file)
            return self._policy

    def close(self) -> None:
        with self._lock:
            if self._store is not None:
                self._store.close()


_resources = _Resources()


def use_settings(settings: Settings) -> None:
    """Serve another store from now on (tests, or an embedding application)."""
    global _resources
    _resources.close()
    _resources = _Resources(settings)


def settings() -> Settings:
    return _resources.settings


def searcher() -> CatalogSearcher:
    """The loaded catalog index; raises :class:`~catalog_index.artifacts.IndexUnavailable` when it cannot load."""
    return _resources.searcher()


def searcher_loaded() -> bool:
    """Whether :func:`searcher` would answer at once: the index and its encoder are in memory."""
    return _resources.loaded()


def store() -> Store:
    """The customer store's engine, shared by the process (units of work are opened per call from it)."""
    return _resources.store()


def store_policy() -> StorePolicy:
    return _resources.policy()


def unit_of_work() -> UnitOfWork:
    """A fresh transaction on the customer store (use as ``with unit_of_work() as uow``)."""
    return store().unit_of_work()


def verified_customer(tracker: Tracker) -> str | None:
    """The customer id from the signed token in the message metadata, never from a slot."""
    metadata: Any = (tracker.latest_message or {}).get("metadata") or {}
    token = metadata.get("customer_token") if isinstance(metadata, dict) else None
    if not token:
        return None
    return verify_customer_token(token, _resources.settings.store_secret)
