"""Hybrid ranking of one index version: dense (FAISS) and BM25 candidates among the rows a filter passes, fused.

The filters arrive as a boolean mask over all products, so the number of passing products
is known up front.  When few pass, FAISS searches only them (an ``IDSelectorBatch``); when
many pass, it over-fetches from the whole index and drops the rest, widening until enough
are found.  Either way a page has ``k`` hits whenever ``offset + k`` products pass, and none
of them violates a filter.  The BM25 leg scores every product for the query text and keeps
the best passing ones.  The two candidate lists are fused (``fusion.py``, method and
parameters chosen by measurement), and products whose SKU, id or whole title the query
names are put on top.

With an approximate (IVF) index the dense leg stays filter-safe the same way: a selective
filter is answered by scoring exactly the few passing rows' stored vectors, a broad one by
an IVF search restricted to the passing rows (an id bitmap) whose ``nprobe`` widens until
enough are found, up to scanning every list, which is exact.
"""

from __future__ import annotations

import faiss
import numpy as np

from catalog_index.ann import ivf_filtered_search, search_parameters
from catalog_index.fusion import FusionConfig, fuse
from catalog_index.lexical import lexical_tokens, title_coverage, top_rows
from catalog_index.ranking import adjacent_pairs, low_price_boost, phrase_share, tokens
from catalog_index.snapshot import Snapshot

SUBSET_FRACTION = 0.25  # search only the passing rows when at most this share of the catalog passes
EXACT_SUBSET_ROWS = 4096  # an IVF index scores a filter's passing rows exactly up to this many (bench/search_scale.py)
CANDIDATE_SLACK = 50  # extra candidates per leg beyond the page, so fusion can lift items from below it
# added to the refined score (at most 1 plus the refinement weights, ``fusion.py``) when a query
# token is the product's SKU or id, or the whole query is its title: above anything else
EXACT_CODE_TIER = 8.0
EXACT_TITLE_TIER = 4.0
RERANK_DEPTH = 50  # the phrase refinement tokenizes titles, so it looks at the best 50 candidates only
FEEDBACK_DEPTH = 3  # dense matches averaged into the query vector by the feedback (fusion.py)


class HybridRanker:
    """Ranks the passing rows of a snapshot for a query vector and text by ``fusion`` (which a benchmark may swap)."""

    def __init__(self, fusion: FusionConfig) -> None:
        self.fusion = fusion

    def browse(self, snap: Snapshot, mask: np.ndarray, prefer_low_price: bool) -> list[tuple[int, float]]:
        """Every passing row, best rated first (cheapest first when ``prefer_low_price``): a search with no words."""
        rows = np.flatnonzero(mask)
        if prefer_low_price:
            prices = snap.filters.prices
            keys = [(prices[row] if not np.isnan(prices[row]) else np.inf, row) for row in rows]
        else:
            keys = [(-(snap.products[row].get("rating") or 0.0), row) for row in rows]
        return [(int(row), 0.0) for _, row in sorted(keys)]

    def _dense_candidates(self, snap: Snapshot, vector: np.ndarray, mask: np.ndarray, wanted: int) -> dict[int, float]:
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

    def _with_feedback(self, snap: Snapshot, vector: np.ndarray, dense: dict[int, float]) -> np.ndarray:
        """The query vector moved toward the mean of its best dense matches, unit length again (Rocchio feedback)."""
        best = sorted(dense, key=lambda row: (-dense[row], row))[:FEEDBACK_DEPTH]
        centroid = snap.index.reconstruct_batch(np.array(best, dtype=np.int64)).mean(axis=0, keepdims=True)
        moved = vector + self.fusion.feedback_weight * centroid
        return np.asarray(moved / np.linalg.norm(moved), dtype=np.float32)

    @staticmethod
    def _exact_tiers(snap: Snapshot, text: str, mask: np.ndarray) -> dict[int, float]:
        """Passing rows whose SKU, id or whole title the query names, with the tier that puts them first."""
        tiers = {row: EXACT_TITLE_TIER for row in snap.title_rows.get(" ".join(tokens(text)), []) if mask[row]}
        tiers.update({snap.code_rows[t]: EXACT_CODE_TIER for t in tokens(text) if t in snap.code_rows and mask[snap.code_rows[t]]})
        return tiers

    @staticmethod
    def _dense_scores(snap: Snapshot, vector: np.ndarray, rows: list[int]) -> dict[int, float]:
        """Inner products with the stored vectors of ``rows`` (those the dense leg did not return)."""
        if not rows:
            return {}
        stored = snap.index.reconstruct_batch(np.array(rows, dtype=np.int64))
        return dict(zip(rows, (stored @ vector[0]).tolist(), strict=True))

    def _fused_candidates(self, snap: Snapshot, vector: np.ndarray, text: str, mask: np.ndarray, need: int) -> dict[int, float]:
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
        self, snap: Snapshot, vector: np.ndarray, text: str, fused: dict[int, float], dense: dict[int, float]
    ) -> dict[int, float]:
        """``fused`` plus the weighted refinements of ``self.fusion`` (title coverage, cosine, phrases)."""
        config = self.fusion
        row_list = list(fused)  # plain ints: per-row lookups below on numpy scalars cost a search ~0.1 ms at 150 candidates
        rows = np.array(row_list, dtype=np.int64)
        scores = np.fromiter(fused.values(), dtype=np.float64, count=len(fused))
        if config.coverage_weight:
            scores += config.coverage_weight * title_coverage(snap.lexical, text, rows)
        if config.similarity_weight:
            missing = self._dense_scores(snap, vector, [row for row in row_list if row not in dense])
            scores += config.similarity_weight * np.array([dense[row] if row in dense else missing[row] for row in row_list])
        query_pairs = adjacent_pairs(lexical_tokens(text)) if config.phrase_weight else set()
        if query_pairs:
            for i in np.argsort(-scores, kind="stable")[:RERANK_DEPTH].tolist():
                scores[i] += config.phrase_weight * phrase_share(query_pairs, snap.title_terms(row_list[i]))
        return dict(zip(row_list, scores.tolist(), strict=True))

    def rank(
        self, snap: Snapshot, vector: np.ndarray, text: str, mask: np.ndarray, need: int, prefer_low_price: bool
    ) -> list[tuple[int, float]]:
        """Candidate rows for ``vector`` (and ``text``, when there are words) with their scores, best first."""
        if text:
            candidates = self._fused_candidates(snap, vector, text, mask, need)
        else:
            candidates = self._dense_candidates(snap, vector, mask, need + CANDIDATE_SLACK)
        rows = np.fromiter(candidates, dtype=np.int64, count=len(candidates))
        scores = np.fromiter(candidates.values(), dtype=np.float64, count=len(candidates))
        if prefer_low_price and len(rows):
            scores += low_price_boost(snap.filters.prices[rows])
        order = np.lexsort((rows, -scores))  # best score first, ties by row
        return list(zip(rows[order].tolist(), scores[order].tolist(), strict=True))

