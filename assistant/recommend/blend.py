"""The blend policy: weighted reciprocal-rank fusion whose weights follow how much we know.

Each recommender ranks its candidates; a product's blended score is
``sum(weight[source] / (RRF_K + rank))`` and its reason is the one from the source that
contributed most.  The weights depend on the shopper's stage:

- ``newcomer`` (no usable history: anonymous, no consent, or no orders yet): popularity,
  trending, the departments of anything viewed, and co-purchase/content anchored on the
  cart and views (these weights are not tuned: the evaluation has few such shoppers);
- ``light`` (fewer than ``REGULAR_ORDERS`` orders) and ``regular``: consumables due for a
  restock lead by far (re-purchase dominates in consumables-heavy retail, and a due item
  the shopper buys every month is the surest suggestion), then category/brand affinity,
  co-purchase, popularity and content; ALS joins only for ``regular`` shoppers.

The ``light``/``regular`` weights are the best of a grid on the validation split of the
demo history (an earlier time split than the reported test split), chosen by the worse of
the two NDCG@10 ratios to the best single recommender (whole next order and discovery);
``bench/recommend_bench.py`` re-runs that choice and reports whether it still matches.
"""

from __future__ import annotations

from collections.abc import Callable

from assistant.recommend import affinity, als, co_purchase, content, popular, repurchase
from assistant.recommend.base import Candidate, Context

Source = Callable[[Context, int], list[Candidate]]
SOURCES: dict[str, Source] = {
    "due": repurchase.due,
    "co_purchase": co_purchase.recommend,
    "content": content.recommend,
    "affinity": affinity.recommend,
    "als": als.recommend,
    "trending": popular.trending,
    "popular": popular.popular,
}
RRF_K = 10.0
REGULAR_ORDERS = 3
POOL = 100
WEIGHTS: dict[str, dict[str, float]] = {
    "newcomer": {"co_purchase": 1.0, "content": 0.5, "affinity": 1.0, "trending": 0.5, "popular": 1.0},
    "light": {"due": 16.0, "co_purchase": 0.5, "content": 0.25, "affinity": 1.0, "trending": 0.15, "popular": 0.3},
    "regular": {"due": 16.0, "co_purchase": 0.5, "als": 0.5, "content": 0.25, "affinity": 1.0, "trending": 0.15, "popular": 0.3},
}


def stage(context: Context) -> str:
    orders = context.profile.order_count
    if orders == 0:
        return "newcomer"
    return "light" if orders < REGULAR_ORDERS else "regular"


def source_lists(context: Context, names: list[str], pool: int = POOL) -> dict[str, list[Candidate]]:
    """Each named recommender's ranking (computed once; the fusion below is cheap)."""
    return {name: SOURCES[name](context, pool) for name in names}


def fuse(lists: dict[str, list[Candidate]], weights: dict[str, float]) -> list[tuple[Candidate, str]]:
    """``(candidate, source)`` best first: the fused score, the strongest source's reason."""
    scores: dict[int, float] = {}
    best: dict[int, tuple[float, Candidate, str]] = {}
    for name, weight in weights.items():
        if weight <= 0:
            continue
        for rank, candidate in enumerate(lists.get(name, ()), 1):
            share = weight / (RRF_K + rank)
            scores[candidate.row] = scores.get(candidate.row, 0.0) + share
            if candidate.row not in best or share > best[candidate.row][0]:
                best[candidate.row] = (share, candidate, name)
    ordered = sorted(scores, key=lambda row: (-scores[row], row))
    return [(Candidate(row, scores[row], best[row][1].reason), best[row][2]) for row in ordered]
