"""Build the FAISS and BM25 indexes of a catalog, bring them up to date incrementally, tell whether one is still good.

Every build writes a complete new version directory and publishes it with an atomic symlink
swap (``versions.py``), so a searcher (or a crash) never sees a half-written index and the
previous version keeps serving until the swap.  Embedding is most of a build's time, so it
is paid only where needed: a full build (:func:`build_index`) reuses the stored vectors when
the index being replaced embedded this very catalog with this very model, and an
incremental build (:func:`incremental_build`, behind ``catalog upsert``/``delete`` and
:func:`ensure_index`) embeds only the products whose embedded text changed and edits the
dense index in place (``ann.py``).  The BM25 part is recomputed from the products every time
(its scores depend on every product), but an incremental build tokenizes only the products
whose text changed and reuses the stored terms of the rest (``lexical.py``;
``bench/search_scale.py`` measures it).
The kind of dense index follows the catalog size and :class:`~catalog_index.ann.IndexParams`.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal

import faiss
import numpy as np

from catalog_index.ann import IndexParams, all_vectors, describe, edited_index, new_index
from catalog_index.artifacts import (
    IDS_FILE,
    INDEX_FILE,
    PRODUCTS_FILE,
    Manifest,
    lexical_problem,
    sha256_file,
)
from catalog_index.catalog_text import CatalogText
from catalog_index.embedder import BUILD_THREADS, Embedder, EmbeddingModel, ModelRef, document_text
from catalog_index.errors import IndexUnavailable
from catalog_index.importer import read_catalog, write_bytes_atomic
from catalog_index.lexical import LEXICAL_DIR, LEXICAL_FORMAT, LexicalIndex, PreviousTerms, files_sha256
from catalog_index.schema import Product
from catalog_index.versions import current_version, new_build_dir, publish, writer_lock


def _read_catalog_bytes(catalog_path: Path) -> CatalogText:
    """Checksum and products from one read, so the manifest describes exactly what was indexed."""
    try:
        data = Path(catalog_path).read_bytes()
    except FileNotFoundError:
        raise FileNotFoundError(f"no catalog at {catalog_path}; run `shop-assistant catalog import FILE` first") from None
    catalog = CatalogText.of_bytes(data)
    catalog.check(catalog_path)
    return catalog


def _stored_index(index_dir: Path, model_name: str) -> tuple[Manifest, faiss.Index, Path] | None:
    """The manifest, dense index and version directory of the index at ``index_dir`` if it is intact and
    was built with ``model_name``, else ``None`` (then nothing can be reused)."""
    try:
        version = current_version(index_dir)
        manifest = Manifest.read(version)
    except IndexUnavailable:
        return None
    path = version / INDEX_FILE
    if manifest.model_name != model_name or not path.exists() or sha256_file(path) != manifest.index_sha256:
        return None
    index = faiss.read_index(str(path))
    if index.ntotal != manifest.product_count or index.d != manifest.dimension:
        return None
    return manifest, index, version


def _write_version(
    index_dir: Path,
    catalog: CatalogText,
    index: faiss.Index,
    index_params: dict[str, Any],
    model_name: str,
    embedding_backend: str,
    started: float,
    previous: PreviousTerms | None = None,
    kept: Sequence[int] | None = None,
) -> Manifest:
    """Write every file of an index version and publish it as the current version of ``index_dir``.

    ``previous``: the replaced version's products and BM25 terms, so unchanged products are not tokenized again
    ``kept``: per row, the row of ``previous`` holding the very same catalog line (-1 for a written one), whose
    product is then not even parsed.
    The catalog's bytes are written as ``products.jsonl`` as they are.
    """
    building = new_build_dir(index_dir)
    try:
        faiss.write_index(index, str(building / INDEX_FILE))
        (building / IDS_FILE).write_text(json.dumps(catalog.ids))
        write_bytes_atomic(catalog.data, building / PRODUCTS_FILE)
        (building / LEXICAL_DIR).mkdir()
        LexicalIndex.build(catalog.products, previous, ids=catalog.ids, kept_rows=kept).save(building / LEXICAL_DIR)
        manifest = Manifest(
            model_name=model_name,
            dimension=int(index.d),
            product_count=len(catalog.ids),
            catalog_sha256=catalog.sha256,
            index_sha256=sha256_file(building / INDEX_FILE),
            build_seconds=round(time.perf_counter() - started, 3),
            built_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
            faiss_index_type=describe(index),
            lexical_sha256=files_sha256(building / LEXICAL_DIR),
            lexical_format=LEXICAL_FORMAT,
            index_params=index_params,
            embedding_backend=embedding_backend,
        )
        manifest.write(building)
        publish(building, index_dir)
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)
        raise
    return manifest


def _check_embedder(embedder: Embedder | None, model_name: str) -> None:
    if embedder is not None and embedder.model_name != model_name:
        raise ValueError(f"embedder holds model {embedder.model_name!r}, asked to build with {model_name!r}")


def _embed_all(
    texts: list[str], model: EmbeddingModel, embedder: Embedder | None, batch_size: int, progress: bool
) -> tuple[np.ndarray, str]:
    """Vectors for ``texts`` and the backend that made them, from ``embedder`` or a build-sized load of ``model``."""
    embedder = embedder or model.load(threads=BUILD_THREADS)
    return embedder.embed(texts, batch_size=batch_size, progress=progress), embedder.backend


def build_index(
    catalog_path: Path,
    index_dir: Path,
    model_name: ModelRef,
    batch_size: int = 64,
    progress: bool = True,
    embedder: Embedder | None = None,
    params: IndexParams | None = None,
) -> Manifest:
    """Embed every product of ``catalog_path`` and publish a complete new index version at ``index_dir``.

    The dense index kind is chosen afresh for the catalog size (an IVF index is retrained).
    ``embedder`` (already holding ``model_name``) spares a long-lived process a second model load;
    no model is loaded at all when the vectors of the index being replaced can be reused.
    """
    started = time.perf_counter()
    index_dir = Path(index_dir)
    model = EmbeddingModel.of(model_name)
    _check_embedder(embedder, model.name)
    catalog = _read_catalog_bytes(Path(catalog_path))
    catalog_sha256, products = catalog.sha256, catalog.products
    with writer_lock(index_dir):
        stored = _stored_index(index_dir, model.name)
        if stored is not None and stored[0].catalog_sha256 == catalog_sha256:
            vectors, backend = all_vectors(stored[1]), stored[0].embedding_backend
        else:
            texts = [document_text(product) for product in products]
            vectors, backend = _embed_all(texts, model, embedder, batch_size, progress)
        index, index_params = new_index(vectors, params or IndexParams())
        return _write_version(index_dir, catalog, index, index_params, model.name, backend, started)


def build_index_from_vectors(
    catalog_path: Path, index_dir: Path, model_name: str, vectors: np.ndarray, params: IndexParams | None = None,
    embedding_backend: str = "torch",
) -> Manifest:
    """Publish an index of ``catalog_path`` whose dense vectors (one per product, in catalog order,
    unit length, made by ``model_name`` through ``embedding_backend``) were computed elsewhere, e.g. by a
    batch job or the scale benchmark."""
    started = time.perf_counter()
    catalog = _read_catalog_bytes(Path(catalog_path))
    if vectors.shape[0] != len(catalog.ids):
        raise ValueError(f"{vectors.shape[0]} vectors for {len(catalog.ids)} products")
    with writer_lock(Path(index_dir)):
        index, index_params = new_index(np.ascontiguousarray(vectors, dtype=np.float32), params or IndexParams())
        return _write_version(Path(index_dir), catalog, index, index_params, model_name, embedding_backend, started)


@dataclass(frozen=True)
class Changes:
    """What an incremental build did, product by product."""

    added: int
    updated: int
    deleted: int
    embedded: int
    manifest: Manifest

    def summary(self) -> str:
        return (
            f"index now {self.manifest.product_count} products ({self.manifest.faiss_index_type}): "
            f"{self.added} added, {self.updated} updated, {self.deleted} deleted, {self.embedded} embedded, "
            f"{self.manifest.build_seconds:.1f} s"
        )


def incremental_build(
    catalog_path: Path,
    index_dir: Path,
    model_name: ModelRef,
    batch_size: int = 64,
    progress: bool = False,
    embedder: Embedder | None = None,
    params: IndexParams | None = None,
    catalog: CatalogText | None = None,
    before: CatalogText | None = None,
) -> Changes:
    """Bring the index at ``index_dir`` up to ``catalog_path``, embedding only new or re-worded products.

    A product keeps its stored vector when its embedded text (:func:`document_text`) is
    unchanged, so price or stock edits embed nothing.  The index keeps the parameters it was
    built with (its manifest's); ``params`` serve only when there is no usable index for this
    model, and then this is a full build.  The caller holds :func:`~catalog_index.versions.writer_lock`.
    A caller that just wrote the catalog passes it as ``catalog`` and the one it replaced as
    ``before``: parsing 100k products is a good part of an update, so neither is read again
    (``before`` stands for the indexed products when its checksum is the index's).
    """
    started = time.perf_counter()
    index_dir = Path(index_dir)
    model = EmbeddingModel.of(model_name)
    _check_embedder(embedder, model.name)
    params = params or IndexParams()
    catalog = catalog or _read_catalog_bytes(Path(catalog_path))
    catalog_sha256, products = catalog.sha256, catalog.products
    stored = _stored_index(index_dir, model.name)
    if stored is None:
        vectors, backend = _embed_all([document_text(p) for p in products], model, embedder, batch_size, progress)
        index, index_params = new_index(vectors, params)
        manifest = _write_version(index_dir, catalog, index, index_params, model.name, backend, started)
        return Changes(added=len(products), updated=0, deleted=0, embedded=len(products), manifest=manifest)
    manifest, index, version = stored
    params = IndexParams.persisted(manifest.index_params) or params
    indexed = before is not None and before.sha256 == manifest.catalog_sha256
    old_products: Sequence[Product]
    if before is not None and indexed:
        old_products, old_ids, kept = before.products, before.ids, catalog.kept_from or None
    else:
        old_products, kept = read_catalog(version / PRODUCTS_FILE), None
        old_ids = [product["id"] for product in old_products]
    old_rows = {product_id: row for row, product_id in enumerate(old_ids)}
    new_row_of = np.full(len(old_ids), -1, dtype=np.int64)
    to_embed: list[int] = []
    updated = 0
    for row, product_id in enumerate(catalog.ids):
        old_row = old_rows.get(product_id)
        if old_row is not None and (
            (kept is not None and kept[row] == old_row) or document_text(old_products[old_row]) == document_text(products[row])
        ):
            new_row_of[old_row] = row
        else:
            to_embed.append(row)
            updated += old_row is not None
    lexical_ok = lexical_problem(version, manifest) is None
    if not to_embed and manifest.catalog_sha256 == catalog_sha256 and lexical_ok:
        return Changes(added=0, updated=0, deleted=0, embedded=0, manifest=manifest)
    texts = [document_text(products[row]) for row in to_embed]
    # The backends' vectors are interchangeable (embedder.py), so stored and new rows may come from different ones;
    # the manifest names the one that made the newest rows.
    if texts:
        vectors, backend = _embed_all(texts, model, embedder, batch_size, progress)
    else:
        vectors, backend = np.zeros((0, index.d), dtype=np.float32), manifest.embedding_backend
    index, index_params = edited_index(
        index, manifest.index_params or {"kind": "flat"}, new_row_of, np.array(to_embed, dtype=np.int64), vectors, params,
    )
    deleted = len(old_ids) - int((new_row_of >= 0).sum()) - updated
    previous = PreviousTerms.load(old_products, version / LEXICAL_DIR, old_ids) if lexical_ok else None
    manifest = _write_version(index_dir, catalog, index, index_params, model.name, backend, started, previous, kept)
    return Changes(added=len(to_embed) - updated, updated=updated, deleted=deleted, embedded=len(to_embed), manifest=manifest)


@dataclass(frozen=True)
class Status:
    """Whether the index at a directory can serve the current catalog with the given model."""

    state: Literal["missing", "stale", "mismatch", "ok"]
    message: str

    @property
    def ok(self) -> bool:
        return self.state == "ok"

    def __str__(self) -> str:
        return self.message


def index_status(catalog_path: Path, index_dir: Path, model_name: ModelRef) -> Status:
    """``missing``, ``stale: catalog changed``, ``mismatch: model X vs Y`` or ``ok`` (cheap: no model load)."""
    index_dir = Path(index_dir)
    try:
        manifest = Manifest.read(index_dir)
    except IndexUnavailable as error:
        return Status("missing", f"missing: {error}")
    absent = [name for name in (INDEX_FILE, IDS_FILE, PRODUCTS_FILE) if not (index_dir / name).exists()]
    if absent:
        return Status("missing", f"missing: {', '.join(absent)} in {index_dir}")
    problem = lexical_problem(index_dir, manifest)
    if problem:
        return Status("missing", f"unusable: {problem}")
    model = EmbeddingModel.of(model_name)
    if manifest.model_name != model.name:
        return Status("mismatch", f"mismatch: model {manifest.model_name} vs {model.name}")
    if not Path(catalog_path).exists():
        return Status("stale", f"stale: no catalog at {catalog_path}")
    if sha256_file(Path(catalog_path)) != manifest.catalog_sha256:
        return Status("stale", "stale: catalog changed")
    return Status("ok", "ok")


def ensure_index(
    catalog_path: Path,
    index_dir: Path,
    model_name: ModelRef,
    batch_size: int = 64,
    progress: bool = True,
    embedder: Embedder | None = None,
    params: IndexParams | None = None,
) -> Manifest:
    """The manifest of an up-to-date index, bringing it up to date first when the status is not ``ok``.

    A stale index is updated incrementally (only changed products are embedded); anything
    else (missing, damaged, another model) is built in full.
    """
    if index_status(catalog_path, index_dir, model_name).ok:
        return Manifest.read(Path(index_dir))
    with writer_lock(Path(index_dir)):
        return incremental_build(
            catalog_path, index_dir, model_name, batch_size=batch_size, progress=progress, embedder=embedder, params=params
        ).manifest
