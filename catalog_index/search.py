"""Hybrid (dense + BM25) product search over a built index, with hard filters that never starve.

How a search runs: the filters become a boolean mask over all products (``FilterIndex``),
so the number of matching products is known up front.  When few products pass, FAISS
searches only them (an ``IDSelectorBatch``); when many pass, it over-fetches from the
whole index and drops the rest, widening until enough are found.  Either way a page has
``k`` hits whenever ``offset + k`` products pass, and none of them violates a filter.
The BM25 leg scores every product for the query text and keeps the best passing ones.
The two candidate lists are fused (``fusion.py``, method and parameters chosen by
measurement), and products whose SKU, id or whole title the query names are put on top.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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
from catalog_index.embedder import Embedder
from catalog_index.filters import FilterIndex, SearchFilters
from catalog_index.fusion import DEFAULT_FUSION, FusionConfig, fuse
from catalog_index.importer import read_catalog
from catalog_index.lexical import LEXICAL_DIR, LexicalIndex, top_rows
from catalog_index.query import ParsedQuery, Vocabulary, parse_query
from catalog_index.ranking import low_price_boost, tokens
from catalog_index.schema import in_stock

__all__ = ["CatalogSearcher", "Hit", "IndexUnavailable", "SearchFilters", "SearchResult", "hit_to_json", "result_to_json"]

SUBSET_FRACTION = 0.25  # search only the passing rows when at most this share of the catalog passes
CANDIDATE_SLACK = 50  # extra candidates per leg beyond the page, so fusion can lift items from below it
EXACT_CODE_TIER = 2.0  # added to the fused score (at most 1) when a query token is the product's SKU or id
EXACT_TITLE_TIER = 1.0  # ... when the whole query is the product's title
QUERY_CACHE_SIZE = 1024


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


@dataclass
class _Artifacts:
    manifest: Manifest
    index: faiss.Index
    products: list[dict[str, Any]]
    lexical: LexicalIndex


def _load_artifacts(index_dir: Path, model_name: str) -> _Artifacts:
    """Read an index directory and check its parts against each other; refuse anything off."""
    manifest = Manifest.read(index_dir)
    if manifest.model_name != model_name:
        raise IndexUnavailable(
            f"index at {index_dir} was built with model {manifest.model_name!r}, not {model_name!r}; rebuild the index"
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
        index = faiss.read_index(str(index_dir / INDEX_FILE))
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
    if [product["id"] for product in products] != ids:
        raise IndexUnavailable(f"index at {index_dir} is inconsistent: {IDS_FILE} does not match {PRODUCTS_FILE}; rebuild the index")
    return _Artifacts(manifest=manifest, index=index, products=products, lexical=lexical)


class CatalogSearcher:
    """A loaded index and model answering searches; safe to share between requests (read-only)."""

    def __init__(self, artifacts: _Artifacts, embedder: Embedder, fusion: FusionConfig = DEFAULT_FUSION) -> None:
        self.manifest = artifacts.manifest
        self.fusion = fusion
        self._index = artifacts.index
        self._products = artifacts.products
        self._lexical = artifacts.lexical
        self._embedder = embedder
        self._filters = FilterIndex(self._products)
        self._code_rows: dict[str, int] = {}
        self._title_rows: dict[str, list[int]] = {}
        for row, product in enumerate(self._products):
            for key in ("id", "sku"):
                if product.get(key):
                    self._code_rows.setdefault(str(product[key]).lower(), row)
            self._title_rows.setdefault(" ".join(tokens(product["title"])), []).append(row)
        self.vocabulary = Vocabulary.from_products(self._products)
        # "show more" and refinements re-run the same text; embedding it is most of a search's cost
        self._query_vector = functools.lru_cache(maxsize=QUERY_CACHE_SIZE)(self._embed_query)

    def _embed_query(self, text: str) -> np.ndarray:
        vector = self._embedder.embed([text])
        vector.flags.writeable = False
        return vector

    @classmethod
    def load(
        cls, index_dir: Path, model_name: str, embedder: Embedder | None = None, fusion: FusionConfig = DEFAULT_FUSION
    ) -> CatalogSearcher:
        """Open the index at ``index_dir``; :class:`IndexUnavailable` if missing, corrupted or mismatched.

        ``embedder`` lets a process that reloads the index after a rebuild keep its loaded model;
        ``fusion`` overrides the ranking (the quality benchmark compares the legs with it).
        """
        artifacts = _load_artifacts(Path(index_dir), model_name)
        if embedder is None:
            embedder = Embedder(model_name)
        elif embedder.model_name != model_name:
            raise IndexUnavailable(f"embedder holds model {embedder.model_name!r}, index needs {model_name!r}")
        if embedder.dimension != artifacts.manifest.dimension:
            raise IndexUnavailable(
                f"model {model_name!r} gives dimension {embedder.dimension}, index at {index_dir} has {artifacts.manifest.dimension}"
            )
        return cls(artifacts, embedder, fusion)

    def __len__(self) -> int:
        return len(self._products)

    @property
    def product_ids(self) -> list[str]:
        """Every indexed product id, in index row order."""
        return [product["id"] for product in self._products]

    def get(self, product_id: str) -> dict[str, Any] | None:
        """The indexed product with this id, or ``None``."""
        row = self._filters.row_of.get(product_id)
        return None if row is None else self._products[row]

    def search(
        self, query: str, k: int = 10, offset: int = 0, filters: SearchFilters | None = None, prefer_low_price: bool = False
    ) -> SearchResult:
        """Page ``[offset, offset + k)`` of the products meeting ``filters``, most relevant first.

        An empty ``query`` lists the matching products by rating (or by price when
        ``prefer_low_price``), which is what "anything under $20?" asks for.
        """
        mask = self._filters.mask(filters)
        total = int(mask.sum())
        need = offset + k
        text = query.strip()
        if not text:
            ranked = self._browse(mask, prefer_low_price)
        else:
            vector = self._query_vector(text)
            ranked = self._rank(vector, text, mask, need, prefer_low_price)
        hits = [Hit(self._products[row], score) for row, score in ranked[offset:need]]
        applied = filters.to_dict() if filters else {}
        return SearchResult(hits=hits, applied_filters=applied, total_matching=total, text=text, offset=offset)

    def search_parsed(
        self, text: str, k: int = 10, offset: int = 0, extra_filters: SearchFilters | None = None
    ) -> SearchResult:
        """Parse ``text`` for constraints, then search; constraints in ``text`` override ``extra_filters``."""
        parsed = parse_query(text, self.vocabulary)
        filters = (extra_filters or SearchFilters()).overridden_by(SearchFilters.from_parsed(parsed))
        result = self.search(parsed.text, k=k, offset=offset, filters=filters, prefer_low_price=parsed.budget)
        result.parsed = parsed
        return result

    def similar(self, product_id: str, k: int = 10, filters: SearchFilters | None = None) -> list[Hit]:
        """Products nearest to ``product_id`` (itself excluded); ``KeyError`` for an unknown id."""
        row = self._filters.row_of.get(product_id)
        if row is None:
            raise KeyError(f"unknown product id {product_id!r}")
        mask = self._filters.mask(filters)
        mask[row] = False
        vector = self._index.reconstruct(row).reshape(1, -1)
        return [Hit(self._products[r], score) for r, score in self._rank(vector, "", mask, k, False)[:k]]

    def _browse(self, mask: np.ndarray, prefer_low_price: bool) -> list[tuple[int, float]]:
        rows = np.flatnonzero(mask)
        if prefer_low_price:
            keys = [(self._filters.prices[row] if not np.isnan(self._filters.prices[row]) else np.inf, row) for row in rows]
        else:
            keys = [(-(self._products[row].get("rating") or 0.0), row) for row in rows]
        return [(int(row), 0.0) for _, row in sorted(keys)]

    def _dense_candidates(self, vector: np.ndarray, mask: np.ndarray, wanted: int) -> dict[int, float]:
        """At least ``min(wanted, passing)`` passing rows with their inner-product scores."""
        passing = int(mask.sum())
        wanted = min(wanted, passing)
        if wanted == 0:
            return {}
        if passing <= SUBSET_FRACTION * len(mask):
            selector = faiss.IDSelectorBatch(np.flatnonzero(mask).astype(np.int64))
            scores, rows = self._index.search(vector, wanted, params=faiss.SearchParameters(sel=selector))
            return {int(r): float(s) for r, s in zip(rows[0], scores[0], strict=False) if r >= 0}
        fetch = wanted
        while True:
            fetch = min(max(fetch, wanted) * 2, len(mask))
            scores, rows = self._index.search(vector, fetch)
            found = {int(r): float(s) for r, s in zip(rows[0], scores[0], strict=False) if r >= 0 and mask[r]}
            if len(found) >= wanted or fetch >= len(mask):
                return found

    def _exact_tiers(self, text: str, mask: np.ndarray) -> dict[int, float]:
        """Passing rows whose SKU, id or whole title the query names, with the tier that puts them first."""
        tiers = {row: EXACT_TITLE_TIER for row in self._title_rows.get(" ".join(tokens(text)), []) if mask[row]}
        tiers.update({self._code_rows[t]: EXACT_CODE_TIER for t in tokens(text) if t in self._code_rows and mask[self._code_rows[t]]})
        return tiers

    def _dense_scores(self, vector: np.ndarray, rows: list[int]) -> dict[int, float]:
        """Inner products with the stored vectors of ``rows`` (those the dense leg did not return)."""
        if not rows:
            return {}
        stored = np.vstack([self._index.reconstruct(row) for row in rows])
        return dict(zip(rows, (stored @ vector[0]).tolist(), strict=True))

    def _fused_candidates(self, vector: np.ndarray, text: str, mask: np.ndarray, need: int) -> dict[int, float]:
        """Both legs' candidates for ``text`` among passing rows, fused by ``self.fusion``."""
        method = self.fusion.method
        depth = max(need + CANDIDATE_SLACK, self.fusion.depth)
        dense = self._dense_candidates(vector, mask, depth) if method != "lexical" else {}
        if method == "dense":
            return dense
        scores = self._lexical.scores(text)
        lexical = top_rows(scores, mask, depth)
        if method == "blend":  # a blend needs both scores for every candidate
            dense.update(self._dense_scores(vector, [row for row in lexical if row not in dense]))
            lexical.update({row: float(scores[row]) for row in dense if row not in lexical})
        fused = fuse(dense, lexical, self.fusion)
        if method != "lexical":
            for row, tier in self._exact_tiers(text, mask).items():
                fused[row] = fused.get(row, 0.0) + tier
        return fused

    def _rank(
        self, vector: np.ndarray, text: str, mask: np.ndarray, need: int, prefer_low_price: bool
    ) -> list[tuple[int, float]]:
        if text:
            candidates = self._fused_candidates(vector, text, mask, need)
        else:
            candidates = self._dense_candidates(vector, mask, need + CANDIDATE_SLACK)
        rows = np.fromiter(candidates, dtype=np.int64, count=len(candidates))
        scores = np.array([candidates[int(row)] for row in rows], dtype=np.float64)
        if prefer_low_price and len(rows):
            scores += low_price_boost(self._filters.prices[rows])
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
