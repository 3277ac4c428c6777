"""The catalog searcher: a loaded index and model answering search requests, following its index to new versions.

A search takes a :class:`~catalog_index.request.SearchRequest` (built once from the
shopper's words by :meth:`SearchRequest.parse <catalog_index.request.SearchRequest.parse>`),
turns its filters into a boolean mask over all products (``FilterIndex``), and ranks the
passing rows with the hybrid dense + BM25 ranker (``hybrid.py``).  Before either leg sees
the query, words that are neither in the catalog nor real words are corrected toward the
catalog's own spelling (``spelling.py``), so a typo costs little.

A searcher follows its index directory: each search checks (one ``stat``) whether a new
version was published (``versions.py``) and, if so, swaps it in.  A background thread per
searcher loads a version a writer names as pending *before* the writer publishes it, so that
swap is instant and the first search after a change does not wait; a version published
without that (its writer gave up waiting, or it was published before this searcher started)
is loaded by the search that finds it.  A search takes the loaded version once (a
``Snapshot``, ``snapshot.py``) and uses only it, so a swap never changes the data under a
running search, and a new version that fails to load is logged and skipped while the old
one keeps serving.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from catalog_index.artifacts import Manifest
from catalog_index.embedder import SEARCH_THREADS, Embedder, EmbeddingModel, ModelRef, use_threads
from catalog_index.errors import IndexUnavailable
from catalog_index.filters import SearchFilters
from catalog_index.fusion import DEFAULT_FUSION, FusionConfig
from catalog_index.hybrid import HybridRanker
from catalog_index.query import Vocabulary
from catalog_index.request import SearchRequest
from catalog_index.schema import Product, in_stock
from catalog_index.snapshot import Artifacts, Snapshot, Stamp, load_artifacts, manifest_stamp
from catalog_index.versions import ReaderFile, pending_version

__all__ = [
    "CatalogSearcher", "Hit", "IndexUnavailable", "LoadedVersion", "SearchFilters", "SearchResult", "hit_to_json",
    "result_to_json",
]

QUERY_CACHE_SIZE = 1024
PRELOAD_POLL_SECONDS = 0.1  # how often a searcher looks for a pending version (one small file read) and beats

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Hit:
    """One product in a result, with the score it was ranked by (higher is better)."""

    product: Product
    score: float


@dataclass
class SearchResult:
    """A page of hits, the filters that were in force, and how many products pass them."""

    hits: list[Hit]
    applied_filters: dict[str, Any]
    total_matching: int
    text: str = ""  # the relevance text actually ranked by
    offset: int = 0


@dataclass(frozen=True)
class LoadedVersion:
    """The index version a searcher serves now, for readers that must follow it (the recommender)."""

    key: str  # changes with every published version that changes the catalog or the vectors
    products: list[Product]  # row order
    index: faiss.Index


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


class CatalogSearcher:
    """A loaded index and model answering searches; safe to share between threads.

    Built by :meth:`load`, it follows its index directory to newer versions (see the module docstring).
    """

    def __init__(
        self, artifacts: Artifacts, embedder: Embedder, fusion: FusionConfig = DEFAULT_FUSION, index_dir: Path | None = None
    ) -> None:
        self._ranker = HybridRanker(fusion)
        self._embedder = embedder
        self._known_words = embedder.known_words()
        self._snapshot = Snapshot(artifacts, self._known_words)
        self._index_dir = index_dir
        self._reload_lock = threading.Lock()
        self._refused: Stamp | None = None  # a published version that failed to load; retried when another appears
        self._preloaded: Snapshot | None = None  # a pending version, loaded before its writer publishes it
        self._preload_tried: str | None = None  # the pending version the watcher last handled
        # "show more" and refinements re-run the same text; embedding it is most of a search's cost
        self._query_vector = functools.lru_cache(maxsize=QUERY_CACHE_SIZE)(self._embed_query)
        if index_dir is not None:
            self._reader = ReaderFile(index_dir)
            self._reader.report(self._snapshot.version)
            weakref.finalize(self, self._reader.remove)
            threading.Thread(target=_watch, args=(weakref.ref(self),), name="index-preload", daemon=True).start()

    def _new_snapshot(self, version: Path | None = None) -> Snapshot:
        """Load the current version (or ``version``) as a snapshot; ``IndexUnavailable``/``OSError`` if it cannot serve."""
        assert self._index_dir is not None
        artifacts = load_artifacts(self._index_dir, self._embedder.model_name, version)
        if artifacts.manifest.dimension != self._embedder.dimension:
            raise IndexUnavailable(f"new index has dimension {artifacts.manifest.dimension}, model gives {self._embedder.dimension}")
        return Snapshot(artifacts, self._known_words)

    def _current(self) -> Snapshot:
        """The newest loadable version: the loaded one unless a newer one was published since."""
        snapshot = self._snapshot
        if self._index_dir is None:
            return snapshot
        try:
            stamp = manifest_stamp(self._index_dir)
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
        artifacts = load_artifacts(Path(index_dir), model_name)
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

    def get(self, product_id: str) -> Product | None:
        """The indexed product with this id, or ``None``."""
        snapshot = self._current()
        row = snapshot.filters.row_of.get(product_id)
        return None if row is None else snapshot.products[row]

    @property
    def fusion(self) -> FusionConfig:
        """How the dense and BM25 legs are fused; a benchmark sets another to compare methods on one loaded index."""
        return self._ranker.fusion

    @fusion.setter
    def fusion(self, config: FusionConfig) -> None:
        self._ranker.fusion = config

    def run(self, request: SearchRequest) -> SearchResult:
        """Page ``[offset, offset + k)`` of the products meeting the request's filters, most relevant first.

        The one search path of chat, the REST API and the CLI.  An empty relevance text lists
        the matching products by rating (or by price when ``prefer_low_price``), which is what
        "anything under $20?" asks for.
        """
        snap = self._current()
        mask = snap.filters.mask(request.filters)
        total = int(mask.sum())
        need = request.offset + request.k
        text = snap.speller.correct(request.text.strip())
        if not text:
            ranked = self._ranker.browse(snap, mask, request.prefer_low_price)
        else:
            vector = self._query_vector(text)
            ranked = self._ranker.rank(snap, vector, text, mask, need, request.prefer_low_price)
        hits = [Hit(snap.products[row], score) for row, score in ranked[request.offset:need]]
        return SearchResult(hits=hits, applied_filters=request.filters.to_dict(), total_matching=total, text=text, offset=request.offset)

    def search(
        self, query: str, k: int = 10, offset: int = 0, filters: SearchFilters | None = None, prefer_low_price: bool = False
    ) -> SearchResult:
        """:meth:`run` for ``query`` taken as relevance text as it is, nothing read from it (a title, an explicit filter)."""
        request = SearchRequest(
            query=query, text=query, filters=filters or SearchFilters(), prefer_low_price=prefer_low_price, k=k, offset=offset
        )
        return self.run(request)

    def similar(self, product_id: str, k: int = 10, filters: SearchFilters | None = None) -> list[Hit]:
        """Products nearest to ``product_id`` (itself excluded); ``KeyError`` for an unknown id."""
        snap = self._current()
        row = snap.filters.row_of.get(product_id)
        if row is None:
            raise KeyError(f"unknown product id {product_id!r}")
        mask = snap.filters.mask(filters)
        mask[row] = False
        vector = snap.index.reconstruct_batch(np.array([row], dtype=np.int64))
        return [Hit(snap.products[r], score) for r, score in self._ranker.rank(snap, vector, "", mask, k, False)[:k]]


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
