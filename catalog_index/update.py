"""Add, update and delete products in a live store without a full rebuild.

``catalog.jsonl`` stays the source of truth: a change is applied to it first (atomically),
then the index is brought up to it by :func:`~catalog_index.build.incremental_build`, which
embeds only the products whose text changed and publishes a new index version.  Both steps
run under the index's writer lock, so concurrent changes are applied one after the other
and none is lost.  Should the process die between the two steps, the index is merely
stale: the next change, ``catalog build-index --if-stale`` or any ``ensure_index`` catches
it up, still embedding only what changed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from catalog_index.ann import IndexParams
from catalog_index.artifacts import IDS_FILE, Manifest
from catalog_index.build import Changes, incremental_build
from catalog_index.catalog_text import CatalogText
from catalog_index.embedder import Embedder, ModelRef
from catalog_index.errors import IndexUnavailable
from catalog_index.importer import write_bytes_atomic
from catalog_index.schema import Product
from catalog_index.versions import current_version, writer_lock


@dataclass(frozen=True)
class UpdateReport:
    """What a change did to the catalog and the index."""

    changes: Changes
    unknown_ids: list[str] = field(default_factory=list)  # asked to delete, not in the catalog

    def summary(self) -> str:
        lines = [self.changes.summary()]
        if self.unknown_ids:
            lines.append(f"not in the catalog (nothing deleted for them): {', '.join(self.unknown_ids)}")
        return "\n".join(lines)


def _indexed_ids(index_dir: Path, data: bytes) -> list[str] | None:
    """The row ids of the current index version when it was built from exactly ``data`` (then they are the catalog's ids)."""
    try:
        version = current_version(index_dir)
        if Manifest.read(version).catalog_sha256 != hashlib.sha256(data).hexdigest():
            return None
        ids = json.loads((version / IDS_FILE).read_text())
    except (IndexUnavailable, OSError, ValueError):
        return None
    return ids if isinstance(ids, list) and all(isinstance(product_id, str) for product_id in ids) else None


def _apply(
    catalog_path: Path,
    index_dir: Path,
    model_name: ModelRef,
    edit: Callable[[CatalogText], CatalogText],
    embedder: Embedder | None,
    params: IndexParams | None,
    batch_size: int,
    progress: bool = False,
) -> Changes:
    """Rewrite the catalog with ``edit(catalog) -> catalog`` and bring the index up to it, under the lock.

    The catalog is read once and the edited one written once: both are handed to the build.  When the index was
    built from the catalog as it is, its ids are the catalog's, so the edit splices lines and only the products it
    writes are ever parsed (:mod:`catalog_index.catalog_text`).
    """
    catalog_path, index_dir = Path(catalog_path), Path(index_dir)
    with writer_lock(index_dir):
        data = catalog_path.read_bytes() if catalog_path.exists() else b""
        before = CatalogText.of_bytes(data, _indexed_ids(index_dir, data))
        edited = edit(before)
        write_bytes_atomic(edited.data, catalog_path)
        return incremental_build(catalog_path, index_dir, model_name, batch_size=batch_size, progress=progress,
                                 embedder=embedder, params=params, catalog=edited, before=before)


def upsert_products(
    catalog_path: Path,
    index_dir: Path,
    model_name: ModelRef,
    products: Mapping[str, Product],
    embedder: Embedder | None = None,
    params: IndexParams | None = None,
    batch_size: int = 64,
    progress: bool = False,
) -> UpdateReport:
    """Add new products and replace existing ones (same id, same place in the catalog); ``progress``: embedding bar."""
    edit = partial(CatalogText.upserted, products=products, origin=Path(catalog_path))
    return UpdateReport(_apply(catalog_path, index_dir, model_name, edit, embedder, params, batch_size, progress))


def delete_products(
    catalog_path: Path,
    index_dir: Path,
    model_name: ModelRef,
    product_ids: Iterable[str],
    embedder: Embedder | None = None,
    params: IndexParams | None = None,
    batch_size: int = 64,
) -> UpdateReport:
    """Remove products by id; ids not in the catalog are reported, and a catalog is never emptied."""
    wanted = list(dict.fromkeys(product_ids))
    unknown: list[str] = []

    def edit(current: CatalogText) -> CatalogText:
        known = set(current.ids)
        unknown.extend(product_id for product_id in wanted if product_id not in known)
        if len(unknown) == len(wanted):
            raise KeyError(f"none of these products is in the catalog: {', '.join(wanted)}")
        gone = set(wanted)
        if known <= gone:
            raise ValueError("deleting these products would leave the catalog empty; import a new catalog instead")
        return current.without(gone, Path(catalog_path))

    return UpdateReport(_apply(catalog_path, index_dir, model_name, edit, embedder, params, batch_size), unknown)
