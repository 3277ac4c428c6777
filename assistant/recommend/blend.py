"""The blend policy: buy-again as the backbone, discovery picks mixed in where they beat it.

A shopper with history gets two rankings:

- buy again (:mod:`.repurchase`): each product they bought and may buy again, scored as the
  chance their next order holds it (recency-weighted share of their orders), reordered by
  restock timing;
- discovery: products they never bought.  A backbone ranking (by default the new finds of
  :mod:`.popular`: what returning shoppers started buying; or popularity, or popularity
  within the shopper's own departments) is lifted by the personal sources: a product's
  backbone score (relative to the backbone's first) is multiplied by
  ``1 + sum(weight[source] * LIFT_K / (LIFT_K + rank - 1))`` over co-purchase with their
  basket and history, their departments (affinity), ALS when the store trained it and
  content neighbours.  With all weights 0 it is the backbone itself, so the tuning can never
  choose something worse than it on the validation data.  A product's reason is that of the
  source that lifted it most, else the backbone's.  Content neighbours come last, after
  everything the backbone and lifts ranked (in a small store they fill the list).
  A store whose own history supports it replaces backbone and lifts by its learned ranker
  (:mod:`.ranker`, fitted and checked at each retrain by :mod:`.calibrate`).

The two are merged by value: a buy-again product is worth its chance, the discovery pick at
rank ``j`` is worth ``discovery_share`` times its score relative to the first pick's.
So a shopper with strong habits sees mostly their staples, one with scattered purchases
mostly new products, and the reasons stay those of the list each product came from.
A shopper without history (anonymous, no consent, no orders yet) gets the ``newcomer``
fusion (weighted reciprocal rank): popularity, trending, and co-purchase/content/departments
anchored on the cart and views.

The weights are chosen by ``bench/recommend_bench.py`` on validation splits (each shopper's
second-to-last order) of public real purchase histories and the demo store, and reported on
the last orders; ``DEFAULT_POLICY`` is what it chose.  Each store may replace its discovery
backbone and lift weights by its own calibration (:mod:`.calibrate`) when its history clearly
favours another setting.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from assistant.recommend import affinity, als, co_purchase, content, popular, repurchase
from assistant.recommend.base import Candidate, Context
from assistant.recommend.ranker import CANDIDATE_SOURCES, Ranker
from assistant.recommend.repurchase import DEFAULT_AGAIN, AgainConfig

Source = Callable[[Context, int], list[Candidate]]
SOURCES: dict[str, Source] = {
    "again": repurchase.again,
    "co_purchase": co_purchase.recommend,
    "content": content.recommend,
    "affinity": affinity.recommend,
    "als": als.recommend,
    "trending": popular.trending,
    "popular": popular.popular,
    "new_finds": popular.new_finds,
}
RRF_K = 10.0
LIFT_K = 10.0  # a lifting source's 10th pick lifts half as much as its first
BACKBONES = ("new_finds", "popular", "affinity")
POOL = 100
NEWCOMER_WEIGHTS = {"co_purchase": 1.0, "content": 0.5, "affinity": 1.0, "trending": 0.5, "popular": 1.0}


@dataclass(frozen=True)
class Policy:
    """Everything the blend is tuned by (``bench/recommend_bench.py`` chooses it)."""

    backbone: str = "new_finds"  # one of BACKBONES; popularity when it has nothing (a store without categories, say)
    discovery: dict[str, float] = field(default_factory=lambda: {
        "co_purchase": 0.0, "affinity": 1.0, "als": 0.0, "content": 0.0,
    })  # lift weights over the backbone (co-purchase, ALS and content lifts lost on Groceries' validation split)
    again: AgainConfig = DEFAULT_AGAIN
    discovery_share: float = 0.05  # a top discovery pick is worth a staple bought in this share of orders
    newcomer: dict[str, float] = field(default_factory=lambda: dict(NEWCOMER_WEIGHTS))
    ranker: Ranker | None = None  # the store's own learned discovery ranker (:mod:`.ranker`), replacing backbone and lifts

    def source_names(self) -> list[str]:
        """The lists a returning shopper's blend reads."""
        lifts = (name for name, weight in self.discovery.items() if weight > 0)
        learned = CANDIDATE_SOURCES if self.ranker is not None else ()
        return list(dict.fromkeys(["again", self.backbone, "popular", "content", *lifts, *learned]))


DEFAULT_POLICY = Policy()


def stage(context: Context) -> str:
    return "newcomer" if context.profile.order_count == 0 else "returning"


def source_lists(context: Context, names: list[str], pool: int = POOL, again: AgainConfig = DEFAULT_AGAIN) -> dict[str, list[Candidate]]:
    """Each named recommender's ranking (computed once; the fusion below is cheap)."""
    return {name: repurchase.again(context, pool, again) if name == "again" else SOURCES[name](context, pool) for name in names}


def fuse_sources(lists: dict[str, list[Candidate]], weights: dict[str, float], skip: set[int] = frozenset()) -> list[tuple[Candidate, str]]:  # type: ignore[assignment]
    """``(candidate, source)`` best first: the fused score, the strongest source's reason; ``skip`` rows left out."""
    scores: dict[int, float] = {}
    best: dict[int, tuple[float, Candidate, str]] = {}
    for name, weight in weights.items():
        if weight <= 0:
            continue
        for rank, candidate in enumerate(lists.get(name, ()), 1):
            if candidate.row in skip:
                continue
            share = weight / (RRF_K + rank)
            scores[candidate.row] = scores.get(candidate.row, 0.0) + share
            if candidate.row not in best or share > best[candidate.row][0]:
                best[candidate.row] = (share, candidate, name)
    ordered = sorted(scores, key=lambda row: (-scores[row], row))
    return [(Candidate(row, scores[row], best[row][1].reason), best[row][2]) for row in ordered]


def lift(
    backbone: list[Candidate], lists: dict[str, list[Candidate]], weights: dict[str, float], skip: set[int] = frozenset(),  # type: ignore[assignment]
    backbone_name: str = "popular",
) -> list[tuple[Candidate, str]]:
    """``(candidate, source)`` best first: the backbone's ranking lifted by the weighted sources (module docstring)."""
    base = {c.row: c for c in backbone}
    top = backbone[0].score if backbone and backbone[0].score > 0 else 1.0
    floor = backbone[-1].score / 2 if backbone else 1.0  # a lifted product the backbone did not rank starts below its last
    factor: dict[int, float] = {}
    best: dict[int, tuple[float, Candidate, str]] = {}
    for name, weight in weights.items():
        if weight <= 0:
            continue
        for rank, candidate in enumerate(lists.get(name, ()), 1):
            if candidate.row in skip:
                continue
            share = weight * LIFT_K / (LIFT_K + rank - 1)
            factor[candidate.row] = factor.get(candidate.row, 1.0) + share
            if candidate.row not in best or share > best[candidate.row][0]:
                best[candidate.row] = (share, candidate, name)
    scored = []
    for row in (base.keys() | factor.keys()) - skip:
        raw = base[row].score if row in base else floor
        value = raw / top * factor.get(row, 1.0)
        chosen, source = (best[row][1], best[row][2]) if row in best else (base[row], backbone_name)
        scored.append((Candidate(row, value, chosen.reason), source))
    scored.sort(key=lambda pair: (-pair[0].score, pair[0].row))
    return scored


def discovery(context: Context, lists: dict[str, list[Candidate]], policy: Policy, skip: set[int]) -> list[tuple[Candidate, str]]:
    """The shopper's never-bought products: by the store's learned ranker when it has one, else the policy's
    backbone (popularity when it has nothing) lifted by its sources."""
    if policy.ranker is not None:
        ranked = policy.ranker.rank(context, lists, skip)
    else:
        name = policy.backbone if lists.get(policy.backbone) else "popular"
        ranked = lift(lists.get(name, []), lists, policy.discovery, skip, name)
    return ranked + last_resort(lists.get("content", []), skip | {c.row for c, _ in ranked}, ranked[-1][0].score if ranked else 1.0)


def last_resort(neighbours: list[Candidate], skip: set[int], below: float) -> list[tuple[Candidate, str]]:
    """Content neighbours the lifted ranking lacks, after it (scored under its last pick): a small store whose
    few buyers own every product anyone bought still gets a full list of things like theirs."""
    kept = [c for c in neighbours if c.row not in skip]
    top = kept[0].score if kept and kept[0].score > 0 else 1.0
    return [(Candidate(c.row, below * 0.5 * max(c.score, 0.0) / top, c.reason), "content") for c in kept]


def mix(again: list[Candidate], discovery: list[tuple[Candidate, str]], share: float) -> list[tuple[Candidate, str]]:
    """Buy-again and discovery merged by value (see the module docstring), each list's order kept."""
    top = discovery[0][0].score if discovery else 1.0
    valued = [(c.score, 0, i, (c, "again")) for i, c in enumerate(again)]
    valued += [(share * c.score / top, 1, i, (c, source)) for i, (c, source) in enumerate(discovery)]
    valued.sort(key=lambda item: (-item[0], item[1], item[2]))
    return [pair for *_, pair in valued]
