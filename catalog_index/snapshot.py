"""One loaded index version: its files read and checked against each other, and the lookup tables built from them.

A searcher serves one :class:`Snapshot` at a time and swaps in a new one when a newer
version is published (``search.py``); a snapshot is never changed once built, so a swap
never changes the data under a running search.
"""

from __future__ import annotations

import functools
import json
import os
from dataclasses import dataclass
from pathlib import Path

import faiss

from catalog_index.ann import describe
from catalog_index.artifacts import (
    IDS_FILE,
    INDEX_FILE,
    MANIFEST_FILE,
    PRODUCTS_FILE,
    Manifest,
    lexical_problem,
    sha256_file,
)
from catalog_index.embedder import COMPATIBLE_BACKENDS
from catalog_index.errors import IndexUnavailable
from catalog_index.filters import FilterIndex
from catalog_index.importer import read_catalog
from catalog_index.lexical import LEXICAL_DIR, LexicalIndex, lexical_tokens
from catalog_index.query import Vocabulary
from catalog_index.ranking import tokens
from catalog_index.schema import Product
from catalog_index.spelling import SpellingCorrector
from catalog_index.versions import current_version

TITLE_TERMS_CACHE_SIZE = 20_000  # rows whose title terms stay tokenized (about 0.5 kB each)

Stamp = tuple[int, int, int]


def manifest_stamp(index_dir: Path) -> Stamp:
    """Identity of the manifest ``index_dir`` resolves to now: a new version has a new manifest file."""
    stat = os.stat(index_dir / MANIFEST_FILE)
    return stat.st_dev, stat.st_ino, stat.st_mtime_ns


@dataclass
class Artifacts:
    """The files of one index version as read, before the lookup tables are built."""

    manifest: Manifest
    index: faiss.Index
    products: list[Product]
    lexical: LexicalIndex
    stamp: Stamp
    version: str  # the version directory's name


def load_artifacts(index_dir: Path, model_name: str, version: Path | None = None) -> Artifacts:
    """Read one index version and check its parts against each other; refuse anything off.

    ``index_dir`` is resolved once, so every file comes from the same version even if a new
    one is published meanwhile; ``version`` reads that version directory instead (a pending one).
    """
    index_dir = version or current_version(index_dir)
    manifest = Manifest.read(index_dir)
    stamp = manifest_stamp(index_dir)
    if manifest.model_name != model_name:
        raise IndexUnavailable(
            f"index at {index_dir} was built with model {manifest.model_name!r}, not {model_name!r}; rebuild the index"
        )
    if manifest.embedding_backend not in COMPATIBLE_BACKENDS:
        raise IndexUnavailable(
            f"index at {index_dir} was embedded by backend {manifest.embedding_backend!r}, whose vectors are not known "
            f"to match this version's ({', '.join(sorted(b for b in COMPATIBLE_BACKENDS if b))}); rebuild the index"
        )
    for name in (INDEX_FILE, IDS_FILE, PRODUCTS_FILE):
        if not (index_dir / name).exists():
            raise IndexUnavailable(f"index at {index_dir} is incomplete: {name} is missing; rebuild the index")
    if sha256_file(index_dir / INDEX_FILE) != manifest.index_sha256:
        raise IndexUnavailable(f"{index_dir / INDEX_FILE} is corrupted (checksum differs from manifest); rebuild the index")
    problem = lexical_problem(index_dir, manifest)
    if problem:
        raise IndexUnavailable(f"{problem}; rebuild the index")
    try:
        # Flat codes memory-mapped (#15.5, #15.7): no copy into each process's heap, so the web app and the
        # action server share one copy of the vectors in the page cache, and a load costs no allocation.
        # 100,000 products: 152 MiB more resident after a plain read, 7 MiB after this one.  (IVF lists are read.)
        index = faiss.read_index(str(index_dir / INDEX_FILE), faiss.IO_FLAG_MMAP_IFC)
        ids = json.loads((index_dir / IDS_FILE).read_text())
        products = read_catalog(index_dir / PRODUCTS_FILE)
        lexical = LexicalIndex.load(index_dir / LEXICAL_DIR)
    except (RuntimeError, ValueError, OSError, KeyError) as error:
        raise IndexUnavailable(f"index at {index_dir} is corrupted ({error}); rebuild the index") from None
    counts = {
        "manifest": manifest.product_count, "faiss ntotal": index.ntotal, IDS_FILE: len(ids),
        PRODUCTS_FILE: len(products), "bm25 documents": lexical.count,
    }
    if len(set(counts.values())) != 1:
        raise IndexUnavailable(f"index at {index_dir} is inconsistent: counts {counts}; rebuild the index")
    if index.d != manifest.dimension:
        raise IndexUnavailable(f"index at {index_dir} has dimension {index.d}, manifest says {manifest.dimension}; rebuild the index")
    if describe(index) != manifest.faiss_index_type:
        raise IndexUnavailable(
            f"{index_dir / INDEX_FILE} is a {describe(index)} index, manifest says {manifest.faiss_index_type}; rebuild the index"
        )
    if [product["id"] for product in products] != ids:
        raise IndexUnavailable(f"index at {index_dir} is inconsistent: {IDS_FILE} does not match {PRODUCTS_FILE}; rebuild the index")
    return Artifacts(manifest=manifest, index=index, products=products, lexical=lexical, stamp=stamp, version=index_dir.name)


class Snapshot:
    """One loaded index version and the lookup tables derived from it; never changed once built."""

    def __init__(self, artifacts: Artifacts, known_words: frozenset[str] = frozenset()) -> None:
        self.manifest = artifacts.manifest
        self.stamp = artifacts.stamp
        self.version = artifacts.version
        self.index = artifacts.index
        self.params = artifacts.manifest.index_params
        self.nlist = int(getattr(faiss.try_extract_index_ivf(self.index), "nlist", 0))  # 0: exact (flat) index
        self.products = artifacts.products
        self.lexical = artifacts.lexical
        self.filters = FilterIndex(self.products)
        self.code_rows: dict[str, int] = {}
        self.title_rows: dict[str, list[int]] = {}
        for row, product in enumerate(self.products):
            for key in ("id", "sku"):
                if product.get(key):
                    self.code_rows.setdefault(str(product[key]).lower(), row)
            self.title_rows.setdefault(" ".join(tokens(product["title"])), []).append(row)
        self.vocabulary = Vocabulary.from_products(self.products)
        self.speller = SpellingCorrector((_speller_text(product) for product in self.products), known_words)
        # the phrase refinement reads the terms of the best candidates' titles; popular products recur
        self.title_terms = functools.lru_cache(maxsize=TITLE_TERMS_CACHE_SIZE)(self._title_terms)

    def _title_terms(self, row: int) -> tuple[str, ...]:
        return tuple(lexical_tokens(self.products[row]["title"]))


def _speller_text(product: Product) -> str:
    """The words a product is searched by, whose spelling the corrector trusts."""
    return " ".join(str(product.get(key) or "") for key in ("title", "brand", "category", "subcategory", "color"))

