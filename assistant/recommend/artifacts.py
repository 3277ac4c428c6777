"""Trained tables cached on disk and in memory, retrained in the background when the store's orders change.

They live in ``<data dir>/recommend/`` (``tables.npz`` and ``meta.json``, no pickles) and are
valid for one row order of the catalog (:func:`.catalog.rows_key`), so a price or stock
change keeps them and a product added or removed retrains them.  A process looks at one
cheap fingerprint of the orders table at most every ``CHECK_SECONDS``; when it differs from
the tables' and they are older than ``refresh_seconds``, or they were trained for other rows,
a background thread retrains them and swaps them in (written back atomically, so other
processes pick them up from disk).  A request never waits for that: it is served from the
previous tables, or, before any exist, from empty ones (buy-again from the shopper's own
orders still works).  Only a caller that asks to wait (the CLI, the benchmark) trains inline.

Every retrain also calibrates the store's discovery setting on its own history
(:mod:`.calibrate`); the choice and its validation figures are kept in the meta
(``calibration``) and served as :attr:`ModelCache.policy` with the tables they were chosen for.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse

from assistant.recommend.blend import DEFAULT_POLICY, Policy
from assistant.recommend.calibrate import calibrate, policy_of
from assistant.recommend.catalog import Catalog
from assistant.recommend.model import AlsConfig, Model, empty, train
from assistant.store.db import UnitOfWork
from assistant.store.models import utcnow
from assistant.store.repositories.history import OrderLine

FORMAT = 4  # 4: the discovery ranker's features changed, so stored rankers are refitted at start, not dropped until new orders
REFRESH_SECONDS = 300.0
CHECK_SECONDS = 30.0  # how often a process looks at the orders' fingerprint at all
TABLES, META = "tables.npz", "meta.json"

Trainer = Callable[[Iterable[OrderLine], Catalog, datetime], Model]
Calibrator = Callable[[list[OrderLine], Catalog, datetime], dict[str, Any]]
log = logging.getLogger(__name__)


def save(
    model: Model, directory: Path, fingerprint: str, catalog_key: str, calibration: dict[str, Any] | None = None,
) -> dict[str, object]:
    """Write the tables (and the store's calibrated discovery setting) atomically; returns their meta."""
    directory.mkdir(parents=True, exist_ok=True)
    table = model.co_purchase
    arrays = {
        "buyers": model.buyers, "popularity": model.popularity, "newcomers": model.newcomers, "adoption": model.adoption,
        "trending": model.trending, "cycle_days": model.cycle_days,
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
        "calibration": calibration,
    }
    tmp_meta = directory / f".{META}.{threading.get_ident()}.tmp"
    tmp_meta.write_text(json.dumps(meta))
    tmp_meta.replace(directory / META)
    return meta


def save_calibration(directory: Path, meta: dict[str, object], calibration: dict[str, Any]) -> dict[str, object]:
    """Add a calibration to saved tables' meta, unless newer tables were saved since (then theirs stands)."""
    updated = meta | {"calibration": calibration}
    try:
        on_disk = json.loads((directory / META).read_text())
    except (OSError, ValueError):
        return updated
    if on_disk.get("trained_at") == meta.get("trained_at"):
        tmp_meta = directory / f".{META}.{threading.get_ident()}.tmp"
        tmp_meta.write_text(json.dumps(updated))
        tmp_meta.replace(directory / META)
    return updated


def load(directory: Path, size: int) -> tuple[Model, dict[str, object]] | None:
    """The saved tables and their meta, or None when absent or unreadable (then they are retrained)."""
    try:
        meta = json.loads((directory / META).read_text())
        with np.load(directory / TABLES) as arrays:
            co = sparse.csr_matrix((arrays["co_data"], arrays["co_indices"], arrays["co_indptr"]), shape=(size, size))
            model = Model(
                as_of=datetime.fromisoformat(meta["as_of"]), buyers=arrays["buyers"], popularity=arrays["popularity"],
                newcomers=arrays["newcomers"], adoption=arrays["adoption"],
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
    """The current tables for one data directory; thread-safe, shared by a process."""

    def __init__(
        self, directory: Path, refresh_seconds: float = REFRESH_SECONDS, trainer: Trainer = train, calibrator: Calibrator = calibrate,
    ) -> None:
        self.directory = directory
        self.refresh_seconds = refresh_seconds
        self.trainer = trainer
        self.calibrator = calibrator
        self._lock = threading.Lock()
        self._model: Model | None = None
        self._meta: dict[str, object] = {}
        self._checked = 0.0
        self._training: threading.Thread | None = None

    def _stale(self, meta: dict[str, object], fingerprint: str, catalog: Catalog) -> bool:
        if meta.get("catalog") != catalog.key:
            return True
        changed = meta.get("fingerprint") != fingerprint
        return changed and time.time() - float(meta.get("trained_at", 0.0)) > self.refresh_seconds  # type: ignore[arg-type]

    def _fits(self, catalog: Catalog) -> bool:
        return self._model is not None and self._meta.get("catalog") == catalog.key

    def get(self, uow: UnitOfWork, catalog: Catalog, wait: bool = False) -> Model:
        """Tables for ``catalog``'s rows: the current ones, a retrain started in the background when stale.

        With ``wait`` a caller that has no fitting tables yet trains them now instead of
        being served empty ones.
        """
        with self._lock:
            fresh_enough = time.monotonic() - self._checked < min(CHECK_SECONDS, self.refresh_seconds)
            if self._fits(catalog) and fresh_enough:
                return self._model  # type: ignore[return-value]
        fingerprint = uow.history.store_fingerprint()
        with self._lock:
            self._checked = time.monotonic()
            if not self._fits(catalog):
                loaded = load(self.directory, len(catalog))
                if loaded is not None and loaded[1].get("catalog") == catalog.key:
                    self._model, self._meta = loaded
            if self._fits(catalog) and not self._stale(self._meta, fingerprint, catalog):
                return self._model  # type: ignore[return-value]
            if not wait or self._fits(catalog):
                self._start(uow, catalog, fingerprint)
                return self._model if self._fits(catalog) else empty(len(catalog), utcnow())  # type: ignore[return-value]
        return self._retrain(uow, catalog, fingerprint)

    @property
    def policy(self) -> Policy:
        """The blend policy calibrated with the current tables (the shipped default before any calibration)."""
        with self._lock:
            return policy_of(self._meta.get("calibration"), DEFAULT_POLICY)

    @property
    def retraining(self) -> bool:
        thread = self._training
        return thread is not None and thread.is_alive()

    def join(self, timeout: float | None = None) -> None:
        """Wait for a running retrain (tests, shutdown)."""
        thread = self._training
        if thread is not None:
            thread.join(timeout)

    def _start(self, uow: UnitOfWork, catalog: Catalog, fingerprint: str) -> None:
        """Retrain in a thread of its own with its own unit of work; one at a time (call under the lock)."""
        if self.retraining:
            return
        own = uow.sibling()

        def run() -> None:
            try:
                with own:
                    self._retrain(own, catalog, fingerprint)
            except Exception:  # a failed retrain keeps the previous tables serving
                log.exception("retraining the recommendation tables failed")

        self._training = threading.Thread(target=run, name="recommend-retrain", daemon=True)
        self._training.start()

    def _retrain(self, uow: UnitOfWork, catalog: Catalog, fingerprint: str) -> Model:
        """Train, serve the new tables at once (with the setting calibrated last time), then calibrate.

        Calibration fits the store's discovery ranker and can take minutes on a large history, so the
        fresh tables do not wait for it; its choice is swapped in beside them when it is done.
        """
        lines, now = list(uow.history.all_lines()), utcnow()
        model = self.trainer(lines, catalog, now)
        with self._lock:
            previous = self._meta.get("calibration") if self._meta.get("catalog") == catalog.key else None
        meta = save(model, self.directory, fingerprint, catalog.key, previous)  # type: ignore[arg-type]
        with self._lock:
            self._model, self._meta = model, meta
        try:
            calibration = self.calibrator(lines, catalog, now)
        except Exception:  # new tables matter more than the choice of setting: they keep the previous one
            log.exception("calibrating the recommendation policy failed; the previous setting is kept")
            return model
        meta = save_calibration(self.directory, meta, calibration)
        with self._lock:
            if self._model is model:
                self._meta = meta
        return model
