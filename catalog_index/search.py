"""Hybrid (dense + BM25) product search over a built index, with hard filters that never starve.

How a search runs: the filters become a boolean mask over all products (``FilterIndex``),
so the number of matching products is known up front.  When few products pass, FAISS
searches only them (an ``IDSelectorBatch``); when many pass, it over-fetches from the
whole index and drops the rest, widening until enough are found.  Either way a page has
``k`` hits whenever ``offset + k`` products pass, and none of them violates a filter.
The BM25 leg scores every product for the query text and keeps the best passing ones.
The two candidate lists are fused (``fusion.py``, method and parameters chosen by
measurement), and products whose SKU, id or whole title the query names are put on top.
Before either leg sees the query, words that are neither in the catalog nor real words are
corrected toward the catalog's own spelling (``spelling.py``), so a typo costs little.

With an approximate (IVF) index the dense leg stays filter-safe the same way: a selective
filter is answered by scoring exactly the few passing rows' stored vectors, a broad one by
an IVF search restricted to the passing rows (an id bitmap) whose ``nprobe`` widens until
enough are found, up to scanning every list, which is exact.

A searcher follows its index directory: each search checks (one ``stat``) whether a new
version was published (``versions.py``) and, if so, swaps it in.  A background thread per
searcher loads a version a writer names as pending *before* the writer publishes it, so that
swap is instant and the first search after a change does not wait; a version published
without that (its writer gave up waiting, or it was published before this searcher started)
is loaded by the search that finds it.  A search
takes the loaded version once (a ``_Snapshot``) and uses only it, so a swap never changes
the data under a running search, and a new version that fails to load is logged and
skipped while the old one keeps serving.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import threading
import time
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from catalog_index.ann import describe, ivf_filtered_search, search_parameters
from catalog_index.artifacts import (
    IDS_FILE,
    INDEX_FILE,
    MANIFEST_FILE,
    PRODUCTS_FILE,
    Manifest,
    lexical_problem,
    sha256_file,
)
from catalog_index.embedder import COMPATIBLE_BACKENDS, SEARCH_THREADS, Embedder, EmbeddingModel, ModelRef, use_threads
from catalog_index.errors import IndexUnavailable
from catalog_index.filters import FilterIndex, SearchFilters
from catalog_index.fusion import DEFAULT_FUSION, FusionConfig, fuse
from catalog_index.importer import read_catalog
from catalog_index.lexical import LEXICAL_DIR, LexicalIndex, lexical_tokens, title_coverage, top_rows
from catalog_index.query import ParsedQuery, Vocabulary, parse_query
from catalog_index.ranking import adjacent_pairs, low_price_boost, phrase_share, tokens
from catalog_index.schema import in_stock
from catalog_index.spelling import SpellingCorrector
from catalog_index.versions import ReaderFile, current_version, pending_version

__all__ = [
    "CatalogSearcher", "Hit", "IndexUnavailable", "LoadedVersion", "SearchFilters", "SearchResult", "hit_to_json", "result_to_json",
]

SUBSET_FRACTION = 0.25  # search only the passing rows when at most this share of the catalog passes
EXACT_SUBSET_ROWS = 4096  # an IVF index scores a filter's passing rows exactly up to this many (bench/search_scale.py)
CANDIDATE_SLACK = 50  # extra candidates per leg beyond the page, so fusion can lift items from below it
# added to the refined score (at most 1 plus the refinement weights, ``fusion.py``) when a query
# token is the product's SKU or id, or the whole query is its title: above anything else
EXACT_CODE_TIER = 8.0
EXACT_TITLE_TIER = 4.0
RERANK_DEPTH = 50  # the phrase refinement tokenizes titles, so it looks at the best 50 candidates only
FEEDBACK_DEPTH = 3  # dense matches averaged into the query vector by the feedback (fusion.py)
QUERY_CACHE_SIZE = 1024
TITLE_TERMS_CACHE_SIZE = 20_000  # rows whose title terms stay tokenized (about 0.5 kB each)
PRELOAD_POLL_SECONDS = 0.1  # how often a searcher looks for a pending version (one small file read) and beats

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Hit:
    """One product in a result, with the score it was ranked by (higher is better)."""

    product: dict[str, Any]
    score: float


@dataclass
class SearchResult:
    """A page of hits, the filters that were in force, and how many products pass them."""

    hits: list[Hit]
    applied_filters: dict[str, Any]
    total_matching: int
    text: str = ""  # the relevance text actually ranked by
    parsed: ParsedQuery | None = None  # set by ``search_parsed``
    offset: int = 0


Stamp = tuple[int, int, int]


def _stamp(index_dir: Path) -> Stamp:
    """Identity of the manifest ``index_dir`` resolves to now: a new version has a new manifest file."""
    stat = os.stat(index_dir / MANIFEST_FILE)
    return stat.st_dev, stat.st_ino, stat.st_mtime_ns


@dataclass
class _Artifacts:
    manifest: Manifest
    index: faiss.Index
    products: list[dict[str, Any]]
    lexical: LexicalIndex
    stamp: Stamp
    version: str  # the version directory's name


def _load_artifacts(index_dir: Path, model_name: str, version: Path | None = None) -> _Artifacts:
    """Read one index version and check its parts against each other; refuse anything off.

    ``index_dir`` is resolved once, so every file comes from the same version even if a new
    one is published meanwhile; ``version`` reads that version directory instead (a pending one).
    """
    index_dir = version or current_version(index_dir)
    manifest = Manifest.read(index_dir)
    stamp = _stamp(index_dir)
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
    return _Artifacts(manifest=manifest, index=index, products=products, lexical=lexical, stamp=stamp, version=index_dir.name)


@dataclass(frozen=True)
class LoadedVersion:
    """The index version a searcher serves now, for readers that must follow it (the recommender)."""

    key: str  # changes with every published version that changes the catalog or the vectors
    products: list[dict[str, Any]]  # row order
    index: faiss.Index


class _Snapshot:
    """One loaded index version and the lookup tables derived from it; never changed once built."""

    def __init__(self, artifacts: _Artifacts, known_words: frozenset[str] = frozenset()) -> None:
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


def _watch(searcher_ref: weakref.ref[CatalogSearcher]) -> None:
    """A searcher's background thread: preload pending versions until the searcher is gone."""
    while True:
        searcher = searcher_ref()
        if searcher is None:
            return
        try:
            searcher._preload_pending()
        except Exception:  # never let the thread die: searches would then wait for loads again
            log.exception("index preload check failed")
        del searcher
        time.sleep(PRELOAD_POLL_SECONDS)


def _speller_text(product: dict[str, Any]) -> str:
    """The words a product is searched by, whose spelling the corrector trusts."""
    return " ".join(str(product.get(key) or "") for key in ("title", "brand", "category", "subcategory", "color"))


class CatalogSearcher:
    """A loaded index and model answering searches; safe to share between threads.

    Built by :meth:`load`, it follows its index directory to newer versions (see the module docstring).
    """

    def __init__(
        self, artifacts: _Artifacts, embedder: Embedder, fusion: FusionConfig = DEFAULT_FUSION, index_dir: Path | None = None
    ) -> None:
        self.fusion = fusion
        self._embedder = embedder
        self._known_words = embedder.known_words()
        self._snapshot = _Snapshot(artifacts, self._known_words)
        self._index_dir = index_dir
        self._reload_lock = threading.Lock()
        self._refused: Stamp | None = None  # a published version that failed to load; retried when another appears
        self._preloaded: _Snapshot | None = None  # a pending version, loaded before its writer publishes it
        self._preload_tried: str | None = None  # the pending version the watcher last handled
        # "show more" and refinements re-run the same text; embedding it is most of a search's cost
        self._query_vector = functools.lru_cache(maxsize=QUERY_CACHE_SIZE)(self._embed_query)
        if index_dir is not None:
            self._reader = ReaderFile(index_dir)
            self._reader.report(self._snapshot.version)
            weakref.finalize(self, self._reader.remove)
            threading.Thread(target=_watch, args=(weakref.ref(self),), name="index-preload", daemon=True).start()

    def _new_snapshot(self, version: Path | None = None) -> _Snapshot:
        """Load the current version (or ``version``) as a snapshot; ``IndexUnavailable``/``OSError`` if it cannot serve."""
        assert self._index_dir is not None
        artifacts = _load_artifacts(self._index_dir, self._embedder.model_name, version)
        if artifacts.manifest.dimension != self._embedder.dimension:
            raise IndexUnavailable(f"new index has dimension {artifacts.manifest.dimension}, model gives {self._embedder.dimension}")
        return _Snapshot(artifacts, self._known_words)

    def _current(self) -> _Snapshot:
        """The newest loadable version: the loaded one unless a newer one was published since."""
        snapshot = self._snapshot
        if self._index_dir is None:
            return snapshot
        try:
            stamp = _stamp(self._index_dir)
        except OSError:  # mid-swap or removed: keep serving what is loaded
            return snapshot
        if stamp in (snapshot.stamp, self._refused):
            return snapshot
        preloaded = self._preloaded
        if preloaded is not None and preloaded.stamp == stamp:  # loaded before it was published: no wait
            self._snapshot, self._preloaded = preloaded, None
            self._reader.report(preloaded.version)
            log.info("switched to preloaded index version %s (%d products)", preloaded.version, len(preloaded.products))
            return preloaded
        if not self._reload_lock.acquire(blocking=False):
            return snapshot  # another thread is loading it right now
        try:
            self._snapshot = snapshot = self._new_snapshot()
            self._reader.report(snapshot.version)
            log.info("loaded index version %s (%d products)", snapshot.version, len(snapshot.products))
        except (IndexUnavailable, OSError) as error:
            self._refused = stamp
            log.warning("keeping the loaded index: the version published at %s cannot be used: %s", self._index_dir, error)
        finally:
            self._reload_lock.release()
        return snapshot

    def _preload_pending(self) -> None:
        """Load the version a writer is about to publish, then say it is ready; otherwise just beat."""
        assert self._index_dir is not None
        pending = pending_version(self._index_dir)
        if pending is None or pending.name in (self._snapshot.version, self._preload_tried):
            self._reader.beat(self._snapshot.version)
            return
        self._preload_tried = pending.name
        try:
            self._preloaded = self._new_snapshot(pending)
            log.info("preloaded index version %s (%d products)", pending.name, len(self._preloaded.products))
        except (IndexUnavailable, OSError) as error:  # the writer need not wait: the search that finds it will say why
            log.warning("could not preload index version %s: %s", pending.name, error)
        self._reader.report(pending.name)

    @property
    def manifest(self) -> Manifest:
        """The manifest of the index version searched now."""
        return self._current().manifest

    def loaded_version(self) -> LoadedVersion:
        """The version searched now (a newer published one is loaded first); never mutate its parts."""
        snapshot = self._current()
        manifest = snapshot.manifest
        return LoadedVersion(f"{manifest.catalog_sha256}:{manifest.index_sha256}", snapshot.products, snapshot.index)

    @property
    def vocabulary(self) -> Vocabulary:
        """Brands, colours and categories of the catalog, for the query parser."""
        return self._current().vocabulary

    def embed(self, texts: list[str]) -> np.ndarray:
        """Normalized vectors for ``texts`` from the searcher's own model (loaded once per process)."""
        return self._embedder.embed(texts)

    def _embed_query(self, text: str) -> np.ndarray:
        vector = self._embedder.embed([text])
        vector.flags.writeable = False
        return vector

    @classmethod
    def load(
        cls, index_dir: Path, model_name: ModelRef, embedder: Embedder | None = None, fusion: FusionConfig = DEFAULT_FUSION
    ) -> CatalogSearcher:
        """Open the index at ``index_dir``; :class:`IndexUnavailable` if missing, corrupted or mismatched.

        ``embedder`` lets a process that reloads the index after a rebuild keep its loaded model;
        ``fusion`` overrides the ranking (the quality benchmark compares the legs with it).
        ``model_name`` is a model name (default backend) or ``settings.embedding``.
        Sets the process's encoder and FAISS threads to ``SEARCH_THREADS`` (why: ``embedder.py``).
        """
        model = EmbeddingModel.of(model_name)
        model_name = model.name
        artifacts = _load_artifacts(Path(index_dir), model_name)
        use_threads(SEARCH_THREADS)
        if embedder is None:
            embedder = model.load()
        elif embedder.model_name != model_name:
            raise IndexUnavailable(f"embedder holds model {embedder.model_name!r}, index needs {model_name!r}")
        if embedder.dimension != artifacts.manifest.dimension:
            raise IndexUnavailable(
                f"model {model_name!r} gives dimension {embedder.dimension}, index at {index_dir} has {artifacts.manifest.dimension}"
            )
        return cls(artifacts, embedder, fusion, index_dir=Path(index_dir))

    def __len__(self) -> int:
        return len(self._current().products)

    @property
    def product_ids(self) -> list[str]:
        """Every indexed product id, in index row order."""
        return [product["id"] for product in self._current().products]

    def get(self, product_id: str) -> dict[str, Any] | None:
        """The indexed product with this id, or ``None``."""
        snapshot = self._current()
        row = snapshot.filters.row_of.get(product_id)
        return None if row is None else snapshot.products[row]

    def search(
        self, query: str, k: int = 10, offset: int = 0, filters: SearchFilters | None = None, prefer_low_price: bool = False
    ) -> SearchResult:
        """Page ``[offset, offset + k)`` of the products meeting ``filters``, most relevant first.

        An empty ``query`` lists the matching products by rating (or by price when
        ``prefer_low_price``), which is what "anything under $20?" asks for.
        """
        return self._search(self._current(), query, k, offset, filters, prefer_low_price)

    def _search(
        self, snap: _Snapshot, query: str, k: int, offset: int, filters: SearchFilters | None, prefer_low_price: bool
    ) -> SearchResult:
        mask = snap.filters.mask(filters)
        total = int(mask.sum())
        need = offset + k
        text = snap.speller.correct(query.strip())
        if not text:
            ranked = self._browse(snap, mask, prefer_low_price)
        else:
            vector = self._query_vector(text)
            ranked = self._rank(snap, vector, text, mask, need, prefer_low_price)
        hits = [Hit(snap.products[row], score) for row, score in ranked[offset:need]]
        applied = filters.to_dict() if filters else {}
        return SearchResult(hits=hits, applied_filters=applied, total_matching=total, text=text, offset=offset)

    def search_parsed(
        self, text: str, k: int = 10, offset: int = 0, extra_filters: SearchFilters | None = None
    ) -> SearchResult:
        """Parse ``text`` for constraints, then search; constraints in ``text`` override ``extra_filters``."""
        snap = self._current()
        parsed = parse_query(text, snap.vocabulary)
        filters = (extra_filters or SearchFilters()).overridden_by(SearchFilters.from_parsed(parsed))
        result = self._search(snap, parsed.text, k, offset, filters, parsed.budget)
        result.parsed = parsed
        return result

    def similar(self, product_id: str, k: int = 10, filters: SearchFilters | None = None) -> list[Hit]:
        """Products nearest to ``product_id`` (itself excluded); ``KeyError`` for an unknown id."""
        snap = self._current()
        row = snap.filters.row_of.get(product_id)
        if row is None:
            raise KeyError(f"unknown product id {product_id!r}")
        mask = snap.filters.mask(filters)
        mask[row] = False
        vector = snap.index.reconstruct_batch(np.array([row], dtype=np.int64))
        return [Hit(snap.products[r], score) for r, score in self._rank(snap, vector, "", mask, k, False)[:k]]

    def _browse(self, snap: _Snapshot, mask: np.ndarray, prefer_low_price: bool) -> list[tuple[int, float]]:
        rows = np.flatnonzero(mask)
        if prefer_low_price:
            prices = snap.filters.prices
            keys = [(prices[row] if not np.isnan(prices[row]) else np.inf, row) for row in rows]
        else:
            keys = [(-(snap.products[row].get("rating") or 0.0), row) for row in rows]
        return [(int(row), 0.0) for _, row in sorted(keys)]

    def _dense_candidates(self, snap: _Snapshot, vector: np.ndarray, mask: np.ndarray, wanted: int) -> dict[int, float]:
        """At least ``min(wanted, passing)`` passing rows with their inner-product scores."""
        passing = int(mask.sum())
        wanted = min(wanted, passing)
        if wanted == 0:
            return {}
        if snap.nlist:
            return ivf_filtered_search(snap.index, snap.params, vector, mask, wanted, EXACT_SUBSET_ROWS)
        index = snap.index
        if passing <= SUBSET_FRACTION * len(mask):
            selector = faiss.IDSelectorBatch(np.flatnonzero(mask).astype(np.int64))
            scores, rows = index.search(vector, wanted, params=search_parameters(index, snap.params, selector))
            return {int(r): float(s) for r, s in zip(rows[0], scores[0], strict=False) if r >= 0}
        fetch = wanted
        while True:
            fetch = min(max(fetch, wanted) * 2, len(mask))
            scores, rows = index.search(vector, fetch)
            found = {int(r): float(s) for r, s in zip(rows[0], scores[0], strict=False) if r >= 0 and mask[r]}
            if len(found) >= wanted or fetch >= len(mask):
                return found

    def _with_feedback(self, snap: _Snapshot, vector: np.ndarray, dense: dict[int, float]) -> np.ndarray:
        """The query vector moved toward the mean of its best dense matches, unit length again (Rocchio feedback)."""
        best = sorted(dense, key=lambda row: (-dense[row], row))[:FEEDBACK_DEPTH]
        centroid = snap.index.reconstruct_batch(np.array(best, dtype=np.int64)).mean(axis=0, keepdims=True)
        moved = vector + self.fusion.feedback_weight * centroid
        return np.asarray(moved / np.linalg.norm(moved), dtype=np.float32)

    @staticmethod
    def _exact_tiers(snap: _Snapshot, text: str, mask: np.ndarray) -> dict[int, float]:
        """Passing rows whose SKU, id or whole title the query names, with the tier that puts them first."""
        tiers = {row: EXACT_TITLE_TIER for row in snap.title_rows.get(" ".join(tokens(text)), []) if mask[row]}
        tiers.update({snap.code_rows[t]: EXACT_CODE_TIER for t in tokens(text) if t in snap.code_rows and mask[snap.code_rows[t]]})
        return tiers

    @staticmethod
    def _dense_scores(snap: _Snapshot, vector: np.ndarray, rows: list[int]) -> dict[int, float]:
        """Inner products with the stored vectors of ``rows`` (those the dense leg did not return)."""
        if not rows:
            return {}
        stored = snap.index.reconstruct_batch(np.array(rows, dtype=np.int64))
        return dict(zip(rows, (stored @ vector[0]).tolist(), strict=True))

    def _fused_candidates(self, snap: _Snapshot, vector: np.ndarray, text: str, mask: np.ndarray, need: int) -> dict[int, float]:
        """Both legs' candidates for ``text`` among passing rows, fused by ``self.fusion``."""
        method = self.fusion.method
        depth = max(need + CANDIDATE_SLACK, self.fusion.depth)
        dense = self._dense_candidates(snap, vector, mask, depth) if method != "lexical" else {}
        if method == "dense":
            return dense
        asked, cosines = vector, dense  # the refinements judge by the shopper's own query
        if self.fusion.feedback_weight and method != "lexical" and dense:
            vector = self._with_feedback(snap, vector, dense)
            dense = self._dense_candidates(snap, vector, mask, depth)
        scores = snap.lexical.scores(text)
        lexical = top_rows(scores, mask, depth)
        if method == "blend":  # a blend needs both scores for every candidate
            dense.update(self._dense_scores(snap, vector, [row for row in lexical if row not in dense]))
            lexical.update({row: float(scores[row]) for row in dense if row not in lexical})
        fused = fuse(dense, lexical, self.fusion)
        if self.fusion.refined and fused:
            fused = self._refined(snap, asked, text, fused, cosines)
        if method != "lexical":
            for row, tier in self._exact_tiers(snap, text, mask).items():
                fused[row] = fused.get(row, 0.0) + tier
        return fused

    def _refined(
        self, snap: _Snapshot, vector: np.ndarray, text: str, fused: dict[int, float], dense: dict[int, float]
    ) -> dict[int, float]:
        """``fused`` plus the weighted refinements of ``self.fusion`` (title coverage, cosine, phrases)."""
        config = self.fusion
        rows = np.fromiter(fused, dtype=np.int64, count=len(fused))
        scores = np.fromiter(fused.values(), dtype=np.float64, count=len(fused))
        if config.coverage_weight:
            scores += config.coverage_weight * title_coverage(snap.lexical, text, rows)
        if config.similarity_weight:
            missing = self._dense_scores(snap, vector, [int(row) for row in rows if int(row) not in dense])
            scores += config.similarity_weight * np.array([dense.get(int(row), missing.get(int(row), 0.0)) for row in rows])
        query_pairs = adjacent_pairs(lexical_tokens(text)) if config.phrase_weight else set()
        if query_pairs:
            for i in np.argsort(-scores, kind="stable")[:RERANK_DEPTH]:
                scores[i] += config.phrase_weight * phrase_share(query_pairs, snap.title_terms(int(rows[i])))
        return dict(zip(rows.tolist(), scores.tolist(), strict=True))

    def _rank(
        self, snap: _Snapshot, vector: np.ndarray, text: str, mask: np.ndarray, need: int, prefer_low_price: bool
    ) -> list[tuple[int, float]]:
        if text:
            candidates = self._fused_candidates(snap, vector, text, mask, need)
        else:
            candidates = self._dense_candidates(snap, vector, mask, need + CANDIDATE_SLACK)
        rows = np.fromiter(candidates, dtype=np.int64, count=len(candidates))
        scores = np.array([candidates[int(row)] for row in rows], dtype=np.float64)
        if prefer_low_price and len(rows):
            scores += low_price_boost(snap.filters.prices[rows])
        order = sorted(range(len(rows)), key=lambda i: (-scores[i], rows[i]))
        return [(int(rows[i]), float(scores[i])) for i in order]


def hit_to_json(hit: Hit) -> dict[str, Any]:
    """The fields a reply or ``--json`` output shows for one hit."""
    product = hit.product
    return {
        "id": product["id"],
        "title": product["title"],
        "price": product.get("price"),
        "currency": product.get("currency"),
        "score": round(hit.score, 4),
        "rating": product.get("rating"),
        "image_url": product.get("image_url"),
        "in_stock": in_stock(product),
    }


def result_to_json(result: SearchResult) -> dict[str, Any]:
    """A whole result as plain JSON: hits, filters in force, total matching, relevance text."""
    return {
        "text": result.text,
        "offset": result.offset,
        "total_matching": result.total_matching,
        "applied_filters": result.applied_filters,
        "hits": [hit_to_json(hit) for hit in result.hits],
    }
