"""The steps that bring a store directory's parts in line: catalog, customer store, history, index.

The ``shop-assistant`` commands run them one at a time and ``demo_setup`` runs them in
sequence (catalog → store mirror → history → index); both go through here, so a store
reached either way ends in the same state and the decisions (is the index stale, what
happens when the customer store is unreachable) are taken in one place.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.errors import EXIT_STORE_NOT_SYNCED, UserError
from assistant.settings import Settings

if TYPE_CHECKING:
    from assistant.store.db import UnitOfWork
    from assistant.store.history_records import ImportReport
    from catalog_index.ann import IndexParams
    from catalog_index.artifacts import Manifest
    from catalog_index.build import Status


def store_location(settings: Settings) -> str:
    """The database URL without credentials, for messages."""
    return settings.database_url.split("@")[-1]


def sync_store_mirror(settings: Settings, change: Callable[[UnitOfWork], object]) -> int:
    """Apply ``change`` to the customer store's product mirror (orders and carts reference products by id).

    Runs after the catalog and index work is done, so an unreachable store loses none of it:
    the command says so plainly, names the command that catches the mirror up and returns
    :data:`~assistant.errors.EXIT_STORE_NOT_SYNCED` as its exit code (0 when the mirror was updated).
    """
    from sqlalchemy.exc import SQLAlchemyError

    from assistant.store.db import open_store

    try:
        with open_store(settings.database_url, migrate_first=True) as store, store.unit_of_work() as uow:
            change(uow)
            uow.commit()
    except (SQLAlchemyError, OSError) as error:
        reason = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
        print(
            f"warning: the customer store ({store_location(settings)}) was NOT updated: {reason}\n"
            "the catalog change itself is done; once the store is reachable, run "
            "`shop-assistant catalog sync-store` to bring its product mirror up to the catalog",
            file=sys.stderr,
        )
        return EXIT_STORE_NOT_SYNCED
    print(f"customer store product mirror updated ({store_location(settings)})")
    return 0


def require_catalog(settings: Settings) -> None:
    """Stop with a clear line when the store has no catalog, or an empty one, to index or mirror."""
    if not settings.catalog_path.exists():
        raise UserError(f"no catalog at {settings.catalog_path}", "run `shop-assistant catalog import FILE` first")
    with settings.catalog_path.open("rb") as lines:
        if not any(line.strip() for line in lines):
            raise UserError(
                f"the catalog at {settings.catalog_path} is empty",
                "run `shop-assistant catalog import FILE` with a file of products",
            )


def mirror_catalog(uow: UnitOfWork, settings: Settings) -> int:
    """Make the store's product rows match the whole catalog file (the mirror's full sync)."""
    return uow.products.mirror_catalog(settings.catalog_path)


def import_history_file(settings: Settings, source: Path, *, progress: bool = False) -> ImportReport:
    """Import customers, orders and events from a file or directory into the store, migrated first."""
    from assistant.store.db import prepare_schema
    from assistant.store.history_import import import_history

    prepare_schema(settings.database_url, settings.profile)
    return import_history(settings.database_url, source, progress=progress)


def index_params(settings: Settings, **overrides: object) -> IndexParams:
    """Dense index parameters from the settings, each overridden by a given (non-None) value."""
    from catalog_index.ann import IndexParams

    return IndexParams.configured(settings, **overrides)


def index_state(settings: Settings) -> Status:
    """Whether the store's index matches its catalog and embedding model (and why not)."""
    from catalog_index.build import index_status

    return index_status(settings.catalog_path, settings.index_dir, settings.embedding)


def build_catalog_index(
    settings: Settings, params: IndexParams, *, progress: bool, incremental: bool = False
) -> Manifest:
    """Build the store's index from its catalog; ``incremental`` catches a stale index up, embedding only changes."""
    from catalog_index.build import build_index, ensure_index

    require_catalog(settings)
    build = ensure_index if incremental else build_index
    return build(
        settings.catalog_path,
        settings.index_dir,
        settings.embedding,
        batch_size=settings.embed_batch_size,
        progress=progress,
        params=params,
    )
