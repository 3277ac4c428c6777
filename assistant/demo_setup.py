"""Bring a store directory to a ready state, doing only what is missing or stale.

``make demo`` and the integration tests call this: generate the demo store if absent,
migrate the customer store, mirror the catalog into it, import the history once, and
build the FAISS index only when the catalog or model changed.  Each step is the one the
``shop-assistant`` commands run (:mod:`assistant.store_steps`).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from assistant.settings import Settings
from assistant.store_steps import (
    build_catalog_index,
    import_history_file,
    index_params,
    index_state,
    mirror_catalog,
)


def _digest(paths: list[Path]) -> str:
    sha = hashlib.sha256()
    for path in paths:
        sha.update(path.read_bytes())
    return sha.hexdigest()


def set_up_demo_store(settings: Settings, seed: int = 42, progress: bool = True) -> None:
    from assistant.demo_store import generate_demo_store
    from assistant.store.db import migrate, open_store

    if not settings.catalog_path.exists():
        print(f"generating the demo store (seed {seed}) in {settings.data_dir}", flush=True)
        generate_demo_store(settings.data_dir, seed=seed)

    migrate(settings.database_url)
    history_files = sorted(settings.history_dir.glob("*.jsonl"))
    marker = settings.data_dir / ".history-imported"
    digest = _digest([settings.catalog_path, *history_files])
    if not marker.exists() or marker.read_text() != digest + settings.database_url:
        with open_store(settings.database_url) as store, store.unit_of_work() as uow:
            mirror_catalog(uow, settings)
            uow.commit()
        if history_files:
            print(import_history_file(settings, settings.history_dir, progress=progress).summary(), flush=True)
        marker.write_text(digest + settings.database_url)
    _add_demo_promotions(settings)

    status = index_state(settings)
    if not status.ok:
        print(f"catalog index {status.message}: building it", flush=True)
        manifest = build_catalog_index(settings, index_params(settings), progress=progress)
        print(f"indexed {manifest.product_count} products in {manifest.build_seconds:.0f} s", flush=True)


def _add_demo_promotions(settings: Settings) -> None:
    """The demo offers ("any deals?"), added once to the store's empty promotions table."""
    from assistant.promotions import add_demo_promotions
    from assistant.store.db import open_store

    with open_store(settings.database_url) as store, store.unit_of_work() as uow:
        if added := add_demo_promotions(uow):
            print(f"added {added} demo promotions", flush=True)
        uow.commit()
