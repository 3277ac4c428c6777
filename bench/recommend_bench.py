"""Offline quality of the recommenders on a time split, and their latency at scale.

Run as ``python -m bench.recommend_bench --data-dir var/demo`` (``make bench``); writes
``bench/results/recommend.json``.

Quality: the store's order history is cut at a moment T; every recommender is trained on
the orders before T and asked for 10 products for each customer who ordered in the
window after T; the target is that customer's next order.  Scored twice: on the whole
next order, and on discovery (each method's list with the products the customer already
bought removed, against the next order's never-bought products).  The blend's weights are
chosen on a validation split (T moved one window earlier, its targets all before the test
T) and only then scored on the test split.  The recommendation is asked at the moment the
customer comes back to order (restock timing is measured from then) but sees only rows
from before T.  Today's stock is ignored (it says nothing of the past); everything else is
the serving code.

Latency: a scratch store (SQLite file and a PostgreSQL database) is filled with generated
customers, orders and events (``--customers``, ``--events``), one customer given 1,000
events, and the recommendation and the search re-rank for that customer are timed.
"""

from __future__ import annotations

import argparse
import itertools
import math
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from assistant.recommend import recommend_for_profile
from assistant.recommend.base import Candidate, Context
from assistant.recommend.blend import SOURCES, WEIGHTS
from assistant.recommend.catalog import Catalog
from assistant.recommend.model import Model, train
from assistant.recommend.profile import Profile, load_profile
from assistant.recommend.repurchase import frequency
from assistant.recommend.rules import Request
from assistant.settings import load_settings
from assistant.store.db import make_engine, make_session_factory
from assistant.store.models import Order
from assistant.store.repositories.history import all_lines
from bench.common import load_average, write_result
from bench.recommend_scale import scale

K = 10
DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
POOL = 100
BASELINES: dict[str, Callable[[Context, int], list[Candidate]]] = {
    "popularity": SOURCES["popular"], "trending": SOURCES["trending"], "own_purchase_frequency": frequency,
    "due_repurchase": SOURCES["due"], "co_purchase": SOURCES["co_purchase"], "content": SOURCES["content"], "als": SOURCES["als"],
    "category_brand_affinity": SOURCES["affinity"],
}
ALIASES = {"popular": "popularity", "due": "due_repurchase", "affinity": "category_brand_affinity"}  # blend source -> row
# The validation grid: the weights of the "light" and "regular" stages (newcomers have no history to weigh);
# kept small (32 sets) so the whole benchmark stays within minutes on two shared cores.
GRID = {
    "due": (4.0, 16.0),
    "co_purchase": (0.5, 1.0),
    "als": (0.0, 0.5),
    "content": (0.25,),
    "affinity": (0.5, 1.0),
    "popular": (0.3, 1.0),
}


@dataclass
class Case:
    """One customer at the split: what they had, what they ordered next, every method's ranking."""

    profile: Profile
    target: set[int]
    owned: set[int]
    lists: dict[str, list[Candidate]]


def _split_cases(session: Session, catalog: Catalog, cut: datetime, end: datetime) -> tuple[Model, list[Case]]:
    """Train on orders before ``cut``; one case per customer with an order in ``[cut, end)`` (their first there)."""
    model = train(all_lines(session, before=cut), catalog, cut)
    first = (
        select(Order.customer_id, func.min(Order.placed_at))
        .where(Order.placed_at >= cut, Order.placed_at < end, Order.status != "cancelled")
        .group_by(Order.customer_id).order_by(Order.customer_id)
    )
    cases = []
    for customer_id, placed in session.execute(first).all():
        next_order = session.execute(
            select(Order).where(Order.customer_id == customer_id, Order.placed_at == placed, Order.status != "cancelled")
        ).scalars().first()
        target = {row for item in next_order.items if (row := catalog.row_of.get(item.product_id)) is not None}
        profile = load_profile(session, customer_id, as_of=cut, consent_checked=True)
        profile.cart = []  # today's cart is the future of this split
        profile.as_of = placed  # asked when they come to shop: only the clock moves, no later row is seen
        owned = {row for pid in profile.bought if (row := catalog.row_of.get(pid)) is not None}
        context = Context(model, catalog, profile)
        lists = {name: method(context, POOL) for name, method in BASELINES.items()}
        lists.update({name: lists[baseline] for name, baseline in ALIASES.items()})
        cases.append(Case(profile, target, owned, lists))
    return model, cases


def _ndcg(ranked: list[int], target: set[int]) -> float:
    gains = sum(1.0 / math.log2(rank + 2) for rank, row in enumerate(ranked[:K]) if row in target)
    ideal = sum(1.0 / math.log2(rank + 2) for rank in range(min(len(target), K)))
    return gains / ideal if ideal else 0.0


def _score(rankings: list[list[int]], cases: list[Case], size: int) -> dict[str, Any]:
    """HR@10, NDCG@10 and coverage, on the whole next order and on discovery."""
    figures: dict[str, Any] = {}
    for mode in ("whole_order", "discovery"):
        hits, gains, shown = [], [], set()
        for ranked, case in zip(rankings, cases, strict=True):
            target = case.target if mode == "whole_order" else case.target - case.owned
            if not target:
                continue
            top = ranked[:K] if mode == "whole_order" else [row for row in ranked if row not in case.owned][:K]
            shown.update(top)
            hits.append(any(row in target for row in top))
            gains.append(_ndcg(top, target))
        figures[mode] = {
            "customers": len(hits), "hr@10": round(float(np.mean(hits)), 4) if hits else 0.0,
            "ndcg@10": round(float(np.mean(gains)), 4) if gains else 0.0, "coverage": round(len(shown) / size, 4),
        }
    return figures


def _blend_rankings(model: Model, catalog: Catalog, cases: list[Case], weights: dict[str, dict[str, float]]) -> list[list[int]]:
    request = Request(k=K + POOL, in_stock_only=False)  # long lists: discovery drops owned rows before cutting at 10
    rankings = []
    for case in cases:
        items = recommend_for_profile(model, catalog, case.profile, request, weights, lists=case.lists)
        rankings.append([catalog.row_of[item.product["id"]] for item in items])
    return rankings


def _objective(figures: dict[str, Any], best: dict[str, float]) -> float:
    """NDCG@10 ratios to the best baseline on both scores: the worse one while either is below 1
    (the blend must win on both), their mean once both are above (so a tie on one side is
    broken by the other, not by grid order)."""
    ratios = [figures[mode]["ndcg@10"] / best[mode] if best[mode] else 0.0 for mode in ("whole_order", "discovery")]
    return min(ratios) if min(ratios) < 1.0 else 1.0 + sum(ratios) / len(ratios)


def _used(weights: dict[str, float]) -> dict[str, float]:
    return {name: weight for name, weight in weights.items() if weight > 0}


def _best_baseline(rows: dict[str, dict[str, Any]]) -> dict[str, float]:
    return {mode: max(row[mode]["ndcg@10"] for row in rows.values()) for mode in ("whole_order", "discovery")}


def _evaluate(model: Model, catalog: Catalog, cases: list[Case]) -> dict[str, dict[str, Any]]:
    return {
        name: _score([[c.row for c in case.lists[name]] for case in cases], cases, len(catalog)) for name in BASELINES
    }


def _timed(label: str, started: float) -> None:
    print(f"{label}: {time.perf_counter() - started:.1f} s", flush=True)


def _candidate_weights() -> list[dict[str, dict[str, float]]]:
    grids = []
    for values in itertools.product(*GRID.values()):
        chosen = dict(zip(GRID, values, strict=True))
        regular = {**chosen, "trending": chosen["popular"] / 2}
        light = {**regular, "als": 0.0}
        grids.append({**WEIGHTS, "light": light, "regular": regular})
    return grids


def quality(data_dir: str, window_days: int) -> dict[str, Any]:
    settings = load_settings(data_dir)
    catalog = Catalog.from_index(settings.index_dir)
    engine = make_engine(settings.database_url)
    try:
        with make_session_factory(engine)() as session:
            end = session.scalar(select(func.max(Order.placed_at))) + timedelta(seconds=1)
            test_cut = end - timedelta(days=window_days)
            valid_cut = test_cut - timedelta(days=window_days)
            started = time.perf_counter()
            valid_model, valid_cases = _split_cases(session, catalog, valid_cut, test_cut)
            test_model, test_cases = _split_cases(session, catalog, test_cut, end)
            prepared = time.perf_counter() - started
    finally:
        engine.dispose()

    valid_rows = _evaluate(valid_model, catalog, valid_cases)
    valid_best = _best_baseline(valid_rows)
    tried = []
    for weights in _candidate_weights():
        figures = _score(_blend_rankings(valid_model, catalog, valid_cases, weights), valid_cases, len(catalog))
        tried.append((_objective(figures, valid_best), weights, figures))
    tried.sort(key=lambda entry: -entry[0])
    _, chosen, chosen_valid = tried[0]
    shipped_valid = _score(_blend_rankings(valid_model, catalog, valid_cases, WEIGHTS), valid_cases, len(catalog))

    test_rows = _evaluate(test_model, catalog, test_cases)
    test_best = _best_baseline(test_rows)
    test_rows["blend (tuned on validation)"] = _score(_blend_rankings(test_model, catalog, test_cases, chosen), test_cases, len(catalog))
    test_rows["blend (shipped WEIGHTS)"] = _score(_blend_rankings(test_model, catalog, test_cases, WEIGHTS), test_cases, len(catalog))
    blend = test_rows["blend (tuned on validation)"]
    return {
        "splits": {
            "validation": {"train_before": valid_cut.isoformat(), "targets_until": test_cut.isoformat(), "customers": len(valid_cases)},
            "test": {"train_before": test_cut.isoformat(), "targets_until": end.isoformat(), "customers": len(test_cases)},
        },
        "test": test_rows,
        "validation": {**valid_rows, "blend (tuned)": chosen_valid, "blend (shipped WEIGHTS)": shipped_valid},
        "best_baseline_ndcg@10_test": test_best,
        "blend_beats_best_baseline_on_test": {
            mode: blend[mode]["ndcg@10"] > test_best[mode] and blend[mode]["hr@10"] >= max(r[mode]["hr@10"] for n, r in test_rows.items() if not n.startswith("blend"))
            for mode in ("whole_order", "discovery")
        },
        "chosen_weights": {stage: chosen[stage] for stage in ("light", "regular")},
        "shipped_weights_equal_chosen": all(_used(WEIGHTS[s]) == _used(chosen[s]) for s in ("light", "regular")),
        "weight_sets_tried": len(tried),
        "seconds_to_prepare_splits": round(prepared, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--window-days", type=int, default=60, help="length of the test (and validation) window")
    parser.add_argument("--customers", type=int, default=100_000, help="customers in the latency store")
    parser.add_argument("--events", type=int, default=5_000_000, help="events in the latency store (orders: a tenth)")
    parser.add_argument("--postgres-url", default=os.environ.get("SHOP_BENCH_POSTGRES_URL", DEFAULT_POSTGRES),
                        help="an admin URL; a scratch database is created and dropped ('' to skip PostgreSQL)")
    parser.add_argument("--skip-latency", action="store_true")
    args = parser.parse_args()
    load_at_start = load_average()
    started = time.perf_counter()
    figures: dict[str, Any] = {"quality": quality(args.data_dir, args.window_days)}
    print(f"quality done in {time.perf_counter() - started:.0f} s", flush=True)
    if not args.skip_latency:
        settings = load_settings(args.data_dir)
        with tempfile.TemporaryDirectory(prefix="recommend-bench-") as workdir:
            figures["latency"] = scale(settings.data_dir, settings.index_dir, Path(workdir), args.customers, args.events,
                                       args.postgres_url or None)
    figures["wall_seconds"] = round(time.perf_counter() - started)
    path = write_result("recommend", figures, load_at_start=load_at_start)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
