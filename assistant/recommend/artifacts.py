"""Trained tables cached on disk and in memory, refreshed when the store's orders change.

They live in ``<data dir>/recommend/`` (``tables.npz`` and ``meta.json``, no pickles).  A
process reads one cheap fingerprint of the orders table (count, last id, cancellations) at
most every ``CHECK_SECONDS``; when it differs from the tables' and they are older than ``refresh_seconds`` (or were
trained for another catalog index) the tables are retrained in the requesting process and
written back atomically, so other processes (the CLI, the action server, the web app) pick
them up from disk.  Between refreshes a recommendation costs only the shopper's own rows.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import asdict
from datetime import datetime
from pathlib import Path

import numpy as np
from scipy import sparse
from sqlalchemy.orm import Session

from assistant.recommend.catalog import Catalog
from assistant.recommend.model import AlsConfig, Model, train
from assistant.store.models import utcnow
from assistant.store.repositories.history import all_lines, store_fingerprint

FORMAT = 1
REFRESH_SECONDS = 300.0
CHECK_SECONDS = 30.0  # how often a process looks at the orders' fingerprint at all
TABLES, META = "tables.npz", "meta.json"


def save(model: Model, directory: Path, fingerprint: str, catalog_key: str) -> dict[str, object]:
    """Write the tables atomically; returns their meta."""
    directory.mkdir(parents=True, exist_ok=True)
    table = model.co_purchase
    arrays = {
        "buyers": model.buyers, "popularity": model.popularity, "trending": model.trending, "cycle_days": model.cycle_days,
        "co_data": table.data, "co_indices": table.indices, "co_indptr": table.indptr,
    }
    if model.item_factors is not None:
        arrays["item_factors"] = model.item_factors
    tmp = directory / f".{TABLES}.{threading.get_ident()}.tmp.npz"
    np.savez(tmp, **arrays)
    tmp.replace(directory / TABLES)
    meta: dict[str, object] = {
        "format": FORMAT, "fingerprint": fingerprint, "catalog": catalog_key, "as_of": model.as_of.isoformat(),
        "trending_days": model.trending_days, "als": asdict(model.als), "trained_at": time.time(),
    }
    tmp_meta = directory / f".{META}.{threading.get_ident()}.tmp"
    tmp_meta.write_text(json.dumps(meta))
    tmp_meta.replace(directory / META)
    return meta


def load(directory: Path, size: int) -> tuple[Model, dict[str, object]] | None:
    """The saved tables and their meta, or None when absent or unreadable (then they are retrained)."""
    try:
        meta = json.loads((directory / META).read_text())
        with np.load(directory / TABLES) as arrays:
            co = sparse.csr_matrix((arrays["co_data"], arrays["co_indices"], arrays["co_indptr"]), shape=(size, size))
            model = Model(
                as_of=datetime.fromisoformat(meta["as_of"]), buyers=arrays["buyers"], popularity=arrays["popularity"],
                trending=arrays["trending"], trending_days=int(meta["trending_days"]), co_purchase=co,
                cycle_days=arrays["cycle_days"],
                item_factors=arrays["item_factors"] if "item_factors" in arrays.files else None,
                als=AlsConfig(**meta["als"]),
            )
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if meta.get("format") != FORMAT or len(model.buyers) != size:
        return None
    return model, meta


class ModelCache:
    """The current tables for one data directory and catalog; thread-safe, shared by a process."""

    def __init__(self, directory: Path, catalog: Catalog, refresh_seconds: float = REFRESH_SECONDS) -> None:
        self.directory = directory
        self.catalog = catalog
        self.refresh_seconds = refresh_seconds
        self._lock = threading.Lock()
        self._model: Model | None = None
        self._meta: dict[str, object] = {}
        self._checked = 0.0

    def _stale(self, meta: dict[str, object], fingerprint: str) -> bool:
        if meta.get("catalog") != self.catalog.key:
            return True
        changed = meta.get("fingerprint") != fingerprint
        return changed and time.time() - float(meta.get("trained_at", 0.0)) > self.refresh_seconds  # type: ignore[arg-type]

    def get(self, session: Session) -> Model:
        """Fresh-enough tables: from memory, else from disk, else trained now from the store."""
        with self._lock:
            if self._model is not None and time.monotonic() - self._checked < min(CHECK_SECONDS, self.refresh_seconds):
                return self._model
        fingerprint = store_fingerprint(session)
        with self._lock:
            self._checked = time.monotonic()
            if self._model is not None and not self._stale(self._meta, fingerprint):
                return self._model
            loaded = load(self.directory, len(self.catalog))
            if loaded is not None and not self._stale(loaded[1], fingerprint):
                self._model, self._meta = loaded
                return loaded[0]
            model = train(all_lines(session), self.catalog, utcnow())
            self._model, self._meta = model, save(model, self.directory, fingerprint, self.catalog.key)
            return model
