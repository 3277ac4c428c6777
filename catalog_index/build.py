"""Build the FAISS and BM25 indexes of a catalog, tell whether an existing one is still good, rebuild if not.

A build writes everything into a temporary directory beside the index directory and
swaps it in with renames, so a searcher (or a crash) never sees a half-written index.
When the index being replaced embedded this very catalog with this very model (only its
lexical part is missing or outdated), its stored vectors are reused instead of embedding
every product again, which is most of a build's time.
The FAISS index type is chosen in :func:`make_faiss_index` alone, so moving large
catalogs to HNSW or IVF is a change in one place.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal

import faiss
import numpy as np

from catalog_index.artifacts import (
    IDS_FILE,
    INDEX_FILE,
    PRODUCTS_FILE,
    IndexUnavailable,
    Manifest,
    lexical_problem,
    sha256_file,
)
from catalog_index.embedder import Embedder, document_text
from catalog_index.importer import write_jsonl_atomic
from catalog_index.lexical import LEXICAL_DIR, LEXICAL_FORMAT, LexicalIndex, files_sha256


def make_faiss_index(dimension: int, count: int) -> tuple[faiss.Index, str]:
    """The empty index for ``count`` unit vectors, and its description for the manifest.

    Exact inner-product search is fast enough well past 100,000 products on one core and
    has perfect recall; rows carry their row number as FAISS id (IndexIDMap2) so that
    id selectors and ``reconstruct`` work the same once an approximate index replaces it.
    """
    del count  # every size is served by the exact index for now
    return faiss.IndexIDMap2(faiss.IndexFlatIP(dimension)), "IDMap2,Flat,IP"


def _read_catalog_bytes(catalog_path: Path) -> tuple[str, list[dict[str, Any]]]:
    """Checksum and products from one read, so the manifest describes exactly what was indexed."""
    try:
        data = Path(catalog_path).read_bytes()
    except FileNotFoundError:
        raise FileNotFoundError(f"no catalog at {catalog_path}; run `shop-assistant catalog import FILE` first") from None
    products = [json.loads(line) for line in data.decode("utf-8").splitlines() if line.strip()]
    if not products:
        raise ValueError(f"catalog {catalog_path} is empty")
    seen: set[str] = set()
    for number, product in enumerate(products, 1):
        if not product.get("id") or not product.get("title"):
            raise ValueError(f"{catalog_path} line {number}: product without id or title")
        if product["id"] in seen:
            raise ValueError(f"{catalog_path} line {number}: duplicate id {product['id']!r}")
        seen.add(product["id"])
    return hashlib.sha256(data).hexdigest(), products


def _swap_in(built: Path, index_dir: Path) -> None:
    """Replace ``index_dir`` with ``built`` by renames on the same file system."""
    if index_dir.exists():
        retired = Path(tempfile.mkdtemp(prefix=f".{index_dir.name}.old-", dir=index_dir.parent))
        retired.rmdir()
        os.rename(index_dir, retired)
        os.rename(built, index_dir)
        shutil.rmtree(retired, ignore_errors=True)
    else:
        os.rename(built, index_dir)


def _stored_vectors(index_dir: Path, model_name: str, catalog_sha256: str) -> np.ndarray | None:
    """The vectors of the index at ``index_dir`` if it embedded this catalog with this model, else ``None``."""
    try:
        manifest = Manifest.read(index_dir)
    except IndexUnavailable:
        return None
    path = index_dir / INDEX_FILE
    if manifest.model_name != model_name or manifest.catalog_sha256 != catalog_sha256 or not path.exists():
        return None
    if sha256_file(path) != manifest.index_sha256:
        return None
    index = faiss.read_index(str(path))
    if index.ntotal != manifest.product_count or index.d != manifest.dimension:
        return None
    return index.reconstruct_n(0, index.ntotal)


def build_index(
    catalog_path: Path,
    index_dir: Path,
    model_name: str,
    batch_size: int = 64,
    progress: bool = True,
    embedder: Embedder | None = None,
) -> Manifest:
    """Embed every product of ``catalog_path`` and write a complete index directory at ``index_dir``.

    ``embedder`` (already holding ``model_name``) spares a long-lived process a second model load;
    no model is loaded at all when the vectors of the index being replaced can be reused.
    """
    started = time.perf_counter()
    index_dir = Path(index_dir)
    catalog_sha256, products = _read_catalog_bytes(Path(catalog_path))
    if embedder is not None and embedder.model_name != model_name:
        raise ValueError(f"embedder holds model {embedder.model_name!r}, asked to build with {model_name!r}")
    vectors = _stored_vectors(index_dir, model_name, catalog_sha256)
    if vectors is None:
        embedder = embedder or Embedder(model_name)
        vectors = embedder.embed([document_text(product) for product in products], batch_size=batch_size, progress=progress)
    dimension = int(vectors.shape[1])
    index, index_type = make_faiss_index(dimension, len(products))
    index.add_with_ids(vectors, np.arange(len(products), dtype=np.int64))

    index_dir.parent.mkdir(parents=True, exist_ok=True)
    building = Path(tempfile.mkdtemp(prefix=f".{index_dir.name}.building-", dir=index_dir.parent))
    try:
        faiss.write_index(index, str(building / INDEX_FILE))
        (building / IDS_FILE).write_text(json.dumps([product["id"] for product in products]))
        write_jsonl_atomic(products, building / PRODUCTS_FILE)
        (building / LEXICAL_DIR).mkdir()
        LexicalIndex.build(products).save(building / LEXICAL_DIR)
        manifest = Manifest(
            model_name=model_name,
            dimension=dimension,
            product_count=len(products),
            catalog_sha256=catalog_sha256,
            index_sha256=sha256_file(building / INDEX_FILE),
            build_seconds=round(time.perf_counter() - started, 3),
            built_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
            faiss_index_type=index_type,
            lexical_sha256=files_sha256(building / LEXICAL_DIR),
            lexical_format=LEXICAL_FORMAT,
        )
        manifest.write(building)
        _swap_in(building, index_dir)
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)
        raise
    return manifest


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


def index_status(catalog_path: Path, index_dir: Path, model_name: str) -> Status:
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
        return Status("missing", f"missing: {problem}")
    if manifest.model_name != model_name:
        return Status("mismatch", f"mismatch: model {manifest.model_name} vs {model_name}")
    if not Path(catalog_path).exists():
        return Status("stale", f"stale: no catalog at {catalog_path}")
    if sha256_file(Path(catalog_path)) != manifest.catalog_sha256:
        return Status("stale", "stale: catalog changed")
    return Status("ok", "ok")


def ensure_index(
    catalog_path: Path,
    index_dir: Path,
    model_name: str,
    batch_size: int = 64,
    progress: bool = True,
    embedder: Embedder | None = None,
) -> Manifest:
    """The manifest of an up-to-date index, building one first when the status is not ``ok``."""
    if index_status(catalog_path, index_dir, model_name).ok:
        return Manifest.read(Path(index_dir))
    return build_index(catalog_path, index_dir, model_name, batch_size=batch_size, progress=progress, embedder=embedder)
