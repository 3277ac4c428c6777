"""Bring a store directory to a ready state, doing only what is missing or stale.

``make demo`` and the integration tests call this: generate the demo store if absent,
migrate the customer store, mirror the catalog into it, import the history once, and
build the FAISS index only when the catalog or model changed.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from assistant.settings import Settings


def _digest(paths: list[Path]) -> str:
    sha = hashlib.sha256()
    for path in paths:
        sha.update(path.read_bytes())
    return sha.hexdigest()


def set_up_demo_store(settings: Settings, seed: int = 42, progress: bool = True) -> None:
    from assistant.demo_store import generate_demo_store
    from assistant.store.db import UnitOfWork, make_engine, make_session_factory, migrate
    from assistant.store.history_import import import_history
    from assistant.store.product_sync import sync_products
    from catalog_index.ann import IndexParams
    from catalog_index.build import build_index, index_status

    if not settings.catalog_path.exists():
        print(f"generating the demo store (seed {seed}) in {settings.data_dir}", flush=True)
        generate_demo_store(settings.data_dir, seed=seed)

    migrate(settings.database_url)
    history_files = sorted(settings.history_dir.glob("*.jsonl"))
    marker = settings.data_dir / ".history-imported"
    digest = _digest([settings.catalog_path, *history_files])
    if not marker.exists() or marker.read_text() != digest + settings.database_url:
        engine = make_engine(settings.database_url)
        try:
            with UnitOfWork(make_session_factory(engine)) as uow:
                sync_products(uow.session, settings.catalog_path)
                uow.commit()
        finally:
            engine.dispose()
        if history_files:
            print(import_history(settings.database_url, settings.history_dir).summary(), flush=True)
        marker.write_text(digest + settings.database_url)
    _add_demo_promotions(settings)

    status = index_status(settings.catalog_path, settings.index_dir, settings.embedding_model)
    if not status.ok:
        print(f"catalog index {status.message}: building it", flush=True)
        manifest = build_index(settings.catalog_path, settings.index_dir, settings.embedding_model,
                               batch_size=settings.embed_batch_size, progress=progress,
                               params=IndexParams.configured(settings))
        print(f"indexed {manifest.product_count} products in {manifest.build_seconds:.0f} s", flush=True)


def _add_demo_promotions(settings: Settings) -> None:
    """The demo offers ("any deals?"), added once to the store's empty promotions table."""
    from assistant.promotions import add_demo_promotions
    from assistant.store.db import UnitOfWork, make_engine, make_session_factory

    engine = make_engine(settings.database_url)
    try:
        with UnitOfWork(make_session_factory(engine)) as uow:
            if added := add_demo_promotions(uow):
                print(f"added {added} demo promotions", flush=True)
            uow.commit()
    finally:
        engine.dispose()
