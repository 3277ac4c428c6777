"""Per-store calibration: each store's discovery setting chosen on its own history at every retrain.

The shipped :data:`.blend.DEFAULT_POLICY` was chosen by the worst of several datasets, so on
a given store another backbone can do better (on Ta Feng, popularity within the shopper's
departments with co-purchase lifts).  When the tables are (re)trained
(:mod:`.artifacts`), :func:`calibrate` runs a time split on the store's own orders:

- the rule: at least ``MIN_SHOPPERS`` (200) shoppers with two or more orders, and at least
  ``MIN_SCORED`` (100) of them whose last order held a product new to them; otherwise the
  shipped default is kept (too little history to tell settings apart);
- each such shopper's last order is held out; the tables are trained on everything else
  (ALS skipped: no setting of the grid reads it);
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

The choice changes only which backbone and lift weights order the discovery picks; every
pick keeps the reason of the recommender that put it there (the backbone's own, or the
lifting source's), computed from the served tables, so the reasons stay true whichever wins.
"""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime
from typing import Any

import numpy as np

from assistant.recommend.base import Context
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
    return replace(base, backbone=str(chosen["backbone"]), discovery={str(k): float(v) for k, v in weights.items()})


def _held_out(lines: list[OrderLine]) -> tuple[set[int], dict[str, int]]:
    """The last order of every shopper with two or more orders: ``(those order ids, shopper -> order id)``."""
    started: dict[str, dict[int, datetime]] = {}
    for line in lines:
        orders = started.setdefault(line.customer_id, {})
        if line.order_id not in orders or line.at < orders[line.order_id]:
            orders[line.order_id] = line.at
    last = {
        customer: max(orders, key=lambda order: (orders[order], order))
        for customer, orders in started.items() if len(orders) >= 2
    }
    return set(last.values()), last


def calibrate(lines: Iterable[OrderLine], catalog: Catalog, as_of: datetime) -> dict[str, Any]:
    """The discovery setting for this store and the validation figures it was chosen on (JSON, stored in the meta)."""
    started = time.perf_counter()
    lines = [line for line in lines if line.at < as_of]
    held_orders, last = _held_out(lines)
    result: dict[str, Any] = {
        "rule": f">= {MIN_SHOPPERS} shoppers with >= 2 orders, >= {MIN_SCORED} with a new product in their last order",
        "eligible_shoppers": len(last), "calibrated": False, "policy": setting_json(DEFAULT_POLICY),
    }
    if len(last) < MIN_SHOPPERS:
        return _done(result, started, f"too little history: {len(last)} shoppers with >= 2 orders")
    past = [line for line in lines if line.order_id not in held_orders]
    by_shopper: dict[str, list[OrderLine]] = {}
    for line in past:
        by_shopper.setdefault(line.customer_id, []).append(line)
    targets: dict[str, set[int]] = {}
    for line in lines:
        if line.order_id in held_orders and (row := catalog.row_of.get(line.product_id)) is not None:
            targets.setdefault(line.customer_id, set()).add(row)
    model = train(past, catalog, as_of, factorize=False)
    shoppers = sorted(last)
    if len(shoppers) > MAX_SHOPPERS:
        shoppers = sorted(np.random.default_rng(SEED).choice(shoppers, MAX_SHOPPERS, replace=False).tolist())
    candidates = settings()
    names = list(dict.fromkeys([*BACKBONES, "popular", *(name for name, values in GRID.items() if max(values) > 0)]))
    scores: list[list[float]] = [[] for _ in candidates]
    for customer in shoppers:
        history = sorted(by_shopper.get(customer, []), key=lambda line: line.at)
        profile = Profile(as_of, customer, history, personalized=True)
        owned = {row for pid in profile.bought if (row := catalog.row_of.get(pid)) is not None}
        target = targets.get(customer, set())
        if not target - owned:
            continue
        context = Context(model, catalog, profile)
        lists = {name: SOURCES[name](context, POOL) for name in names}
        for i, policy in enumerate(candidates):
            ranked = [candidate.row for candidate, _ in discovery(lists, policy, owned)[:K]]
            found = hit_and_ndcg(ranked, target, owned, "discovery", K)
            if found is not None:
                scores[i].append(found[1])
    scored = len(scores[0])
    result["scored_shoppers"] = scored
    if scored < MIN_SCORED:
        return _done(result, started, f"too little history: {scored} shoppers with a new product in their last order")
    default = np.array(scores[0])
    figures = [(float(np.mean(values)), *paired_interval(np.array(values), default)[1:]) for values in scores]
    clear = [i for i, (_, low, _) in enumerate(figures) if i > 0 and low > 0]
    best = max(clear, key=lambda i: figures[i][0]) if clear else 0
    result.update(
        calibrated=True, policy=setting_json(candidates[best]),
        validation={"ndcg@10": round(figures[best][0], 4), "default_ndcg@10": round(figures[0][0], 4)},
        settings=[
            {**setting_json(policy), "ndcg@10": round(mean, 4), "vs_default_ci95": [round(low, 4), round(high, 4)]}
            for policy, (mean, low, high) in zip(candidates, figures, strict=True)
        ],
    )
    why = "a setting beat the default on the store's own last orders" if best else "no setting clearly beat the default"
    return _done(result, started, why)


def _done(result: dict[str, Any], started: float, why: str) -> dict[str, Any]:
    result["why"] = why
    result["seconds"] = round(time.perf_counter() - started, 2)
    log.info(
        "recommendation calibration: %s; discovery setting %s%s", why, result["policy"],
        f", validation NDCG@10 {result['validation']['ndcg@10']} vs default {result['validation']['default_ndcg@10']}"
        f" on {result['scored_shoppers']} shoppers" if result["calibrated"] else "",
    )
    return result
