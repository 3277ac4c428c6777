"""How the dense and BM25 candidate lists become one ranking, and the one place its settings live.

Two fusions are offered because which one wins depends on the catalog and the queries:
reciprocal-rank fusion (RRF) only looks at ranks, so it needs no score calibration; the
weighted blend min-max normalizes each leg's scores over the candidates and mixes them,
which keeps "how much better" information RRF throws away.  ``bench/search_quality.py``
measures both (tuned on one half of the labelled queries, reported on the other) and
:data:`DEFAULT_FUSION` holds the winner.  Both return scores in ``[0, 1]`` so later
adjustments (exact-match tiers, the budget boost) mean the same whatever the method.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Literal

Method = Literal["rrf", "blend", "dense", "lexical"]


@dataclass(frozen=True)
class FusionConfig:
    """Which ranking to use and its parameters.

    ``dense`` and ``lexical`` rank by one leg alone (for measurement); only the fused
    methods and ``dense`` guarantee ``k`` hits, because BM25 scores nothing for a query
    whose words no product uses.
    """

    method: Method = "rrf"
    rrf_k: float = 60.0  # RRF damping: larger flattens the gap between rank 1 and rank 10
    dense_weight: float = 0.5  # share of the dense leg, for both RRF (as a rank weight) and the blend
    depth: int = 100  # candidates taken from each leg before fusing
    # Refinements added to a fused candidate's score (the fused methods only), each a feature
    # in [0, 1] times its weight (``hybrid.py``):
    # the share of the query's terms the title holds: a product naming everything asked for
    # ("leather mens briefcase") beats one matching a rare word alone, which ranks cannot tell;
    coverage_weight: float = 0.0
    # the query-product cosine itself, which RRF reduces to a rank: "how much closer" counts;
    similarity_weight: float = 0.0
    # the share of the query's adjacent term pairs found adjacent in the title ("memory card"
    # as a phrase, not "card" and "memory" apart), computed for the best RERANK_DEPTH only.
    phrase_weight: float = 0.0
    # Pseudo-relevance feedback for the dense leg of the fused methods (Rocchio): the query vector
    # plus this weight times the mean of its best FEEDBACK_DEPTH dense matches, searched again.
    # A short query ("desk lamp") is a thin vector; its best matches say what such products look like.
    feedback_weight: float = 0.0

    @property
    def refined(self) -> bool:
        """Whether any refinement applies (only the fused methods are refined)."""
        return self.method in ("rrf", "blend") and bool(self.coverage_weight or self.similarity_weight or self.phrase_weight)


# Chosen on the tune queries of a real title-only catalog (CrowdFlower, bench/search_real.py;
# figures in bench/results/search_real.json): test NDCG@10 0.798 against 0.770 for the previous
# default (RRF k=40, equal weights, no refinements), recall@100 unchanged (0.963).  Of the gain,
# title coverage gave about +0.011, the phrase refinement +0.007, a dense weight of 0.7 (with
# coverage) +0.005 and the cosine +0.001 (an ablation on cached scores).  RRF rather than the
# blend: min-max normalizing a handful of filtered candidates pins the last one to 0 in both
# legs, which makes additive preferences such as the "cheap" boost unable to lift it.
# The refinement weights plus 1 must stay below the exact-match tiers (hybrid.py).
# Dense feedback (issue #10.6) is measured and not adopted.  On the CrowdFlower tune queries (the
# refinements judging by the shopper's own query vector) weight 0 / 0.6 / 1.0 / 1.5 / 2.0 / 3.0 gave
# NDCG@10 0.7972 / 0.7976 / 0.8010 / 0.8014 / 0.8023 / 0.8011, but on the test queries 2.0 moved
# 0.7981 to 0.7987 only, on the demo judgments it lost (tune 0.8543 -> 0.8512, test 0.8146 -> 0.8034,
# recall@100 0.856 -> 0.837), and it costs a second ANN search.  Title coverage counted by IDF and a
# head-word (last query word in the title) bonus gave nothing on CrowdFlower tune (0.7966-0.7974).
# Refitted with a second real set (Best Buy searches graded by clicks): a pairwise logistic regression
# over these five features on both sets' tune queries lands on these weights (dense 0.63, coverage 0.57,
# cosine 0.46, phrase 0.26), and no grid point gains on both sets (bench/README.md, search round 4).
DEFAULT_FUSION = FusionConfig(
    method="rrf", rrf_k=60.0, dense_weight=0.7, depth=100, coverage_weight=0.4, similarity_weight=0.5, phrase_weight=0.2
)
FEEDBACK_FUSION = replace(DEFAULT_FUSION, feedback_weight=2.0)  # the measured alternative, kept in the benches


def reciprocal_rank_fusion(
    dense: Mapping[int, float], lexical: Mapping[int, float], rrf_k: float, dense_weight: float
) -> dict[int, float]:
    """``sum(weight / (rrf_k + rank))`` over the legs that found a row, scaled so a row first in both scores 1."""
    fused: dict[int, float] = {}
    for weight, leg in ((dense_weight, dense), (1.0 - dense_weight, lexical)):
        ranked = sorted(leg, key=lambda row: (-leg[row], row))
        for rank, row in enumerate(ranked, 1):
            fused[row] = fused.get(row, 0.0) + weight / (rrf_k + rank)
    best = 1.0 / (rrf_k + 1)
    return {row: score / best for row, score in fused.items()}


def _min_max(scores: Mapping[int, float], rows: list[int]) -> dict[int, float]:
    """Scores mapped onto [0, 1] over ``rows``; rows the leg did not score get 0."""
    present = [scores[row] for row in rows if row in scores]
    low, high = min(present, default=0.0), max(present, default=0.0)
    span = high - low
    return {row: 0.0 if row not in scores else (scores[row] - low) / span if span > 0 else 1.0 for row in rows}


def weighted_blend(dense: Mapping[int, float], lexical: Mapping[int, float], dense_weight: float) -> dict[int, float]:
    """``w * dense + (1 - w) * bm25`` after min-max normalizing each leg over the candidates.

    A row one leg did not score gets that leg's floor (0 after normalizing), so callers
    should pass both legs' scores for every candidate where they can (the searcher does).
    """
    rows = sorted(set(dense) | set(lexical))
    dense_norm = _min_max(dense, rows)
    lexical_norm = _min_max(lexical, rows)
    return {row: dense_weight * dense_norm[row] + (1.0 - dense_weight) * lexical_norm[row] for row in rows}


def fuse(dense: Mapping[int, float], lexical: Mapping[int, float], config: FusionConfig) -> dict[int, float]:
    """One score per candidate row (higher is better) by ``config.method``."""
    if config.method == "dense":
        return dict(dense)
    if config.method == "lexical":
        return dict(lexical)
    if config.method == "blend":
        return weighted_blend(dense, lexical, config.dense_weight)
    return reciprocal_rank_fusion(dense, lexical, config.rrf_k, config.dense_weight)
