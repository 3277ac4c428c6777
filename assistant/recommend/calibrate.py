"""Per-store calibration: each store's discovery setting chosen on its own history at every retrain.

The shipped :data:`.blend.DEFAULT_POLICY` was chosen by the worst of several datasets, so on
a given store another backbone can do better (on Ta Feng, popularity within the shopper's
departments with co-purchase lifts).  When the tables are (re)trained
(:mod:`.artifacts`), :func:`calibrate` runs a time split on the store's own orders:

- the rule: at least ``MIN_SHOPPERS`` (200) shoppers with two or more orders, and at least
  ``MIN_SCORED`` (100) of them whose last order held a product new to them; otherwise the
  shipped default is kept (too little history to tell settings apart);
- each such shopper's last order is held out; the tables are trained on everything else
  (without ALS: neither the grid nor the ranker below reads it);
- every setting of :data:`GRID` (the benchmark's: each backbone times co-purchase and
  department lift weights) ranks the shopper's never-bought products
  (:func:`.blend.discovery`, exactly what serving runs) and is scored by discovery NDCG@10
  (:mod:`.metrics`, the benchmark's metric) on at most ``MAX_SHOPPERS`` of them (a
  deterministic sample, so a retrain stays in seconds on a large store);
- a setting replaces the default only when it is better on those shoppers beyond doubt: the
  paired bootstrap 95% interval of its per-shopper difference to the default lies above zero
  (:func:`.metrics.paired_interval`); of such settings the best mean wins.  Without that gate a
  one-order validation chases noise: on the benchmark's three stores the bare "best mean" choice
  lost to the default on every test split (``bench/README.md``).

Then the learned ranker (:mod:`.ranker`) is fitted on the same shoppers' last ``HOLDOUTS`` (4)
orders (each with tables trained without those orders, so up to four times the examples of one split:
on the benchmark's validation splits 4 beat 3, and 3 beat 2, on all three stores, ``bench/README.md`` round 5), and
checked by cross-fitting: each half of the shoppers is ranked by a ranker fitted on the other
half and scored on its last order.  It replaces the setting (stored with it in the policy) when it
beats plain popularity there; the setting's own figure is not the bar, since it was chosen on
those same orders (optimistic), and on the benchmark's validation splits the ranker beat the
settings the grid chose (``bench/README.md``).

The choice changes only which ranking orders the discovery picks; every
pick keeps the reason of the recommender that put it there (the backbone's own, or the
lifting source's), computed from the served tables, so the reasons stay true whichever wins.
"""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from assistant.recommend import ranker
from assistant.recommend.base import Candidate, Context
from assistant.recommend.blend import BACKBONES, DEFAULT_POLICY, SOURCES, Policy, discovery
from assistant.recommend.catalog import Catalog
from assistant.recommend.metrics import K, hit_and_ndcg, paired_interval
from assistant.recommend.model import train
from assistant.recommend.profile import Profile
from assistant.store.repositories.history import OrderLine

MIN_SHOPPERS = 200  # shoppers with >= 2 orders
MIN_SCORED = 100  # of them, with a new product in their last order
MAX_SHOPPERS = 2000
POOL = 100
# lift weights tried over each backbone (ALS and content lifts lost on every dataset's validation split)
GRID: dict[str, tuple[float, ...]] = {"co_purchase": (0.0, 0.5), "affinity": (0.0, 1.0), "als": (0.0,), "content": (0.0,)}
SEED = 7
HOLDOUTS = 4  # the ranker learns from each shopper's last four orders (fewer are too few examples on a small store)
FOLDS = 2

log = logging.getLogger(__name__)


def settings(base: Policy = DEFAULT_POLICY) -> list[Policy]:
    """Every discovery setting the calibration compares (the default's own first)."""
    found = [base]
    for backbone in BACKBONES:
        for values in itertools.product(*GRID.values()):
            policy = replace(base, backbone=backbone, discovery=dict(zip(GRID, values, strict=True)))
            if policy != base:
                found.append(policy)
    return found


def setting_json(policy: Policy) -> dict[str, Any]:
    return {"backbone": policy.backbone, "discovery": dict(policy.discovery)}


def policy_of(calibration: object, base: Policy = DEFAULT_POLICY) -> Policy:
    """The policy a stored calibration chose; ``base`` when absent or not one this code knows (then it is not trusted)."""
    if not isinstance(calibration, dict):
        return base
    chosen = calibration.get("policy")
    if not isinstance(chosen, dict) or chosen.get("backbone") not in BACKBONES:
        return base
    weights = chosen.get("discovery")
    if not isinstance(weights, dict) or set(weights) - set(SOURCES) or not all(isinstance(v, int | float) for v in weights.values()):
        return base
    learned = ranker.Ranker.from_json(chosen["ranker"]) if "ranker" in chosen else None
    if "ranker" in chosen and learned is None:
        return base
    return replace(base, backbone=str(chosen["backbone"]), discovery={str(k): float(v) for k, v in weights.items()}, ranker=learned)


def _orders(lines: list[OrderLine]) -> dict[str, list[tuple[datetime, int]]]:
    """Each shopper's orders as ``(placed, order id)``, newest first."""
    started: dict[str, dict[int, datetime]] = {}
    for line in lines:
        orders = started.setdefault(line.customer_id, {})
        if line.order_id not in orders or line.at < orders[line.order_id]:
            orders[line.order_id] = line.at
    return {customer: sorted(((at, order) for order, at in orders.items()), reverse=True) for customer, orders in started.items()}


@dataclass
class Example:
    """One shopper at one held-out order: what serving would have had, and what they then bought new."""

    customer: str
    context: Context
    lists: dict[str, list[Candidate]]
    owned: set[int]
    target: set[int]


def examples(lines: list[OrderLine], catalog: Catalog, as_of: datetime, depth: int, shoppers: list[str] | None = None) -> list[Example]:
    """Each shopper's ``depth``-th newest order held out (1: the last): tables trained without every shopper's
    ``depth`` newest orders, the shopper's history before the held-out order, the order's new products."""
    orders = _orders(lines)
    dropped = {order for placed in orders.values() for _, order in placed[:min(depth, len(placed) - 1)]}
    held = {customer: placed[depth - 1] for customer, placed in orders.items() if len(placed) > depth}
    model = train([line for line in lines if line.order_id not in dropped], catalog, as_of, factorize=False)
    by_shopper: dict[str, list[OrderLine]] = {}
    targets: dict[str, set[int]] = {}
    for line in lines:
        if line.customer_id not in held:
            continue
        at, order = held[line.customer_id]
        if line.order_id == order and (row := catalog.row_of.get(line.product_id)) is not None:
            targets.setdefault(line.customer_id, set()).add(row)
        elif line.at < at:
            by_shopper.setdefault(line.customer_id, []).append(line)
    names = list(dict.fromkeys([*BACKBONES, "popular", *ranker.CANDIDATE_SOURCES, *(n for n, values in GRID.items() if max(values) > 0)]))
    found = []
    for customer in sorted(held) if shoppers is None else [c for c in shoppers if c in held]:
        profile = Profile(held[customer][0], customer, sorted(by_shopper.get(customer, []), key=lambda line: line.at), personalized=True)
        owned = {row for pid in profile.bought if (row := catalog.row_of.get(pid)) is not None}
        target = targets.get(customer, set()) - owned
        if not target:
            continue
        context = Context(model, catalog, profile)
        found.append(Example(customer, context, {name: SOURCES[name](context, POOL) for name in names}, owned, target))
    return found


def _ndcg(ranked: list[tuple[Candidate, str]], example: Example) -> float:
    """Discovery NDCG@10 (the shopper's own products dropped from the list before the cut)."""
    return _rows_ndcg([candidate.row for candidate, _ in ranked], example)


def _rows_ndcg(rows: list[int], example: Example) -> float:
    found = hit_and_ndcg(rows, example.target, example.owned, "discovery", K)
    return found[1] if found is not None else 0.0


@dataclass
class Design:
    """One example's candidates for the ranker: their rows, features and whether the held-out order chose each
    (computed once per example: the two cross-fitting folds and the final fit all read them)."""

    example: Example
    rows: np.ndarray
    x: np.ndarray
    chosen: np.ndarray


def _designs(found: list[Example]) -> list[Design]:
    designs = []
    for example in found:
        rows = ranker.candidates(example.lists, example.owned)
        designs.append(Design(example, rows, ranker.features(example.context, example.lists, rows),
                              np.isin(rows, list(example.target)).astype(float)))
    return designs


def _fit(designs: list[Design]) -> ranker.Ranker:
    """The ranker fitted on every candidate of the designs, grouped by example (an example none of whose new
    products any source proposed teaches nothing and is left out)."""
    used = [design for design in designs if design.chosen.any()]
    if not used:
        return ranker.fit(np.zeros((0, len(ranker.FEATURES))), np.zeros(0), np.zeros(0, dtype=np.int64))
    return ranker.fit(
        np.vstack([d.x for d in used]), np.concatenate([d.chosen for d in used]),
        np.concatenate([np.full(len(d.rows), i) for i, d in enumerate(used)]),
    )


def calibrate(lines: Iterable[OrderLine], catalog: Catalog, as_of: datetime) -> dict[str, Any]:
    """The discovery setting for this store and the validation figures it was chosen on (JSON, stored in the meta).

    BLAS runs single-threaded here: the work is thousands of small products (one shopper's content
    neighbours, one Newton step), where thread start-up costs more than it saves, and it runs in the
    background beside the servers that need the cores."""
    with threadpool_limits(1, "blas"):
        return _calibrate(list(lines), catalog, as_of)


def _calibrate(lines: list[OrderLine], catalog: Catalog, as_of: datetime) -> dict[str, Any]:
    started = time.perf_counter()
    lines = [line for line in lines if line.at < as_of]
    eligible = sorted(customer for customer, placed in _orders(lines).items() if len(placed) >= 2)
    result: dict[str, Any] = {
        "rule": f">= {MIN_SHOPPERS} shoppers with >= 2 orders, >= {MIN_SCORED} with a new product in their last order",
        "eligible_shoppers": len(eligible), "calibrated": False, "policy": setting_json(DEFAULT_POLICY),
    }
    if len(eligible) < MIN_SHOPPERS:
        return _done(result, started, f"too little history: {len(eligible)} shoppers with >= 2 orders")
    shoppers = eligible
    if len(shoppers) > MAX_SHOPPERS:
        shoppers = sorted(np.random.default_rng(SEED).choice(shoppers, MAX_SHOPPERS, replace=False).tolist())
    last = examples(lines, catalog, as_of, 1, shoppers)
    result["scored_shoppers"] = len(last)
    if len(last) < MIN_SCORED:
        return _done(result, started, f"too little history: {len(last)} shoppers with a new product in their last order")
    candidates = settings()
    scores = np.array([[_ndcg(discovery(e.context, e.lists, policy, e.owned), e) for e in last] for policy in candidates])
    figures = [(float(values.mean()), *paired_interval(values, scores[0])[1:]) for values in scores]
    clear = [i for i, (_, low, _) in enumerate(figures) if i > 0 and low > 0]
    best = max(clear, key=lambda i: figures[i][0]) if clear else 0
    chosen = candidates[best]
    result.update(
        calibrated=True, policy=setting_json(chosen),
        validation={"ndcg@10": round(figures[best][0], 4), "default_ndcg@10": round(figures[0][0], 4)},
        settings=[
            {**setting_json(policy), "ndcg@10": round(mean, 4), "vs_default_ci95": [round(low, 4), round(high, 4)]}
            for policy, (mean, low, high) in zip(candidates, figures, strict=True)
        ],
    )
    learned, figures_learned = _learn(lines, catalog, as_of, shoppers, last, scores[best])
    result["ranker"] = figures_learned
    if learned is not None:
        result["policy"] = {**setting_json(chosen), "ranker": learned.to_json()}
        result["validation"]["ndcg@10"] = figures_learned["cross_fitted_ndcg@10"]
        return _done(result, started, "the learned ranker beat popularity on the store's last orders, fitted on other shoppers")
    why = "a setting beat the default on the store's own last orders" if best else "no setting clearly beat the default"
    return _done(result, started, why)


def _learn(
    lines: list[OrderLine], catalog: Catalog, as_of: datetime, shoppers: list[str], last: list[Example], setting: np.ndarray,
) -> tuple[ranker.Ranker | None, dict[str, Any]]:
    """The ranker fitted on the shoppers' last ``HOLDOUTS`` orders, served when it beats plain popularity on the
    store's last orders with each half of the shoppers ranked by a ranker fitted on the other half.

    The bar is popularity, not the grid's chosen setting (``setting``, its per-shopper NDCG on ``last``, reported
    beside): that setting was chosen on these same orders, so its figure is optimistic, while the ranker's is not."""
    earlier = _designs([example for depth in range(2, HOLDOUTS + 1) for example in examples(lines, catalog, as_of, depth, shoppers)])
    held = _designs(last)
    fold = {customer: i % FOLDS for i, customer in enumerate(shoppers)}
    crossed = np.zeros(len(held))
    for part in range(FOLDS):
        fitted = _fit([d for d in (*held, *earlier) if fold[d.example.customer] != part])
        for i, design in enumerate(held):
            if fold[design.example.customer] == part:
                crossed[i] = _rows_ndcg(design.rows[np.lexsort((design.rows, -fitted.logits(design.x)))].tolist(), design.example)
    popular = np.array([_ndcg([(c, "popular") for c in e.lists.get("popular", [])], e) for e in last])
    difference, low, high = paired_interval(crossed, popular)
    final = _fit([*held, *earlier])
    figures = {
        "examples": len(held) + len(earlier), "cross_fitted_ndcg@10": round(float(crossed.mean()), 4),
        "popularity_ndcg@10": round(float(popular.mean()), 4), "vs_popularity_ci95": [round(low, 4), round(high, 4)],
        "setting_ndcg@10 (in-sample)": round(float(setting.mean()), 4),
        "coefficients": dict(zip(ranker.FEATURES, (round(c, 4) for c in final.coef), strict=True)),
    }
    return (final if difference > 0 else None), figures
def _done(result: dict[str, Any], started: float, why: str) -> dict[str, Any]:
    result["why"] = why
    result["seconds"] = round(time.perf_counter() - started, 2)
    log.info(
        "recommendation calibration: %s; discovery setting %s%s", why, result["policy"],
        f", validation NDCG@10 {result['validation']['ndcg@10']} vs default {result['validation']['default_ndcg@10']}"
        f" on {result['scored_shoppers']} shoppers" if result["calibrated"] else "",
    )
    return result
