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

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from catalog_index.ann import IndexParams
from catalog_index.build import CatalogText, Changes, incremental_build
from catalog_index.embedder import Embedder, ModelRef
from catalog_index.importer import write_bytes_atomic
from catalog_index.schema import Product
from catalog_index.versions import writer_lock


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


def _apply(
    catalog_path: Path,
    index_dir: Path,
    model_name: ModelRef,
    edit: Callable[[list[Product]], list[Product]],
    embedder: Embedder | None,
    params: IndexParams | None,
    batch_size: int,
    progress: bool = False,
) -> Changes:
    """Rewrite the catalog with ``edit(products) -> products`` and bring the index up to it, under the lock.

    The catalog is read and parsed once, and the edited one serialized once: both are handed to the build.
    ``edit`` returns the products it leaves alone as the very objects it was given (it never changes one in place):
    the build takes such a product as unchanged, so it is neither serialized, compared nor tokenized again.
    """
    with writer_lock(Path(index_dir)):
        before = CatalogText.of_bytes(Path(catalog_path).read_bytes() if Path(catalog_path).exists() else b"")
        edited = CatalogText.of_products(edit(before.products), Path(catalog_path), before)
        write_bytes_atomic(edited.data, Path(catalog_path))
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

    def edit(current: list[Product]) -> list[Product]:
        known = {product["id"] for product in current}
        merged = [products.get(product["id"], product) for product in current]
        return merged + [product for product_id, product in products.items() if product_id not in known]

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

    def edit(current: list[Product]) -> list[Product]:
        known = {product["id"] for product in current}
        unknown.extend(product_id for product_id in wanted if product_id not in known)
        if len(unknown) == len(wanted):
            raise KeyError(f"none of these products is in the catalog: {', '.join(wanted)}")
        gone = set(wanted)
        kept = [product for product in current if product["id"] not in gone]
        if not kept:
            raise ValueError("deleting these products would leave the catalog empty; import a new catalog instead")
        return kept

    return UpdateReport(_apply(catalog_path, index_dir, model_name, edit, embedder, params, batch_size), unknown)
