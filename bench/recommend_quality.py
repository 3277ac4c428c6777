"""Recommendation quality on real purchase histories and the demo store, through the real import path.

For each dataset (:mod:`bench.datasets`): the bare catalog is indexed, the sampled shoppers'
history is imported with ``history import`` (order lines + a customers file with consent)
into a scratch SQLite store, with each shopper's held-out order falling "today", and the
serving code (tables trained by :func:`assistant.recommend.model.train`, profiles loaded by
:func:`assistant.recommend.profile.load_profile`, lists made by
:func:`assistant.recommend.recommend_for_profile`) is asked for 10 products per shopper.

Scored on the whole held-out order and on discovery (each list with the shopper's own past
products removed, against the held-out order's never-bought products), HR@10 and NDCG@10,
beside the two obvious lists: the shopper's own most-bought products and store popularity.
The policy is chosen on the validation split (second-to-last orders) by the worst ratio,
over datasets, to those baselines (own frequency on the whole order, popularity on
discovery), and only then scored on the test split (last orders).
"""

from __future__ import annotations

import itertools
import math
import shutil
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from assistant.recommend import recommend_for_profile
from assistant.recommend.base import Candidate, Context
from assistant.recommend.blend import DEFAULT_POLICY, SOURCES, Policy
from assistant.recommend.catalog import Catalog
from assistant.recommend.model import Model, train
from assistant.recommend.profile import Profile, load_profile
from assistant.recommend.repurchase import AgainConfig, again, frequency
from assistant.recommend.rules import Request
from assistant.store.db import make_engine, make_session_factory, migrate
from assistant.store.history_import import import_history
from assistant.store.product_sync import sync_products
from assistant.store.repositories.history import all_lines
from bench.datasets.common import ROOT
from bench.datasets.splits import write_split
from catalog_index.build import build_index, index_status
from catalog_index.importer import import_catalog
from catalog_index.search import CatalogSearcher

K = 10
POOL = 100
DATASETS = ("demo", "tafeng", "groceries")
SPLITS = {"validation": 2, "test": 1}
DISCOVERY = ("co_purchase", "affinity", "als", "content", "popular")
# kept small (24 + 18 policies) so the whole choice takes minutes on two shared cores
DISCOVERY_GRID = {"co_purchase": (0.5, 1.0), "affinity": (0.5, 1.0), "als": (0.0, 0.5), "content": (0.1,), "popular": (1.0, 2.0, 4.0)}
AGAIN_GRID = {"decay": (0.7, 0.9, 1.0), "timing": (0.0, 0.3)}
SHARE_GRID = (0.05, 0.1, 0.2)
BASELINES: dict[str, Callable[[Context, int], list[Candidate]]] = {"own_frequency": frequency, "popularity": SOURCES["popular"]}
MODES = ("whole_order", "discovery")


@dataclass
class Case:
    profile: Profile
    target: set[int]
    owned: set[int]
    lists: dict[str, list[Candidate]]


@dataclass
class Prepared:
    name: str
    catalog: Catalog
    model: Model
    cases: list[Case]


def catalog_file(name: str) -> Path:
    folder = ROOT / name
    found = [path for path in (folder / "catalog.csv", folder / "catalog.jsonl") if path.exists()]
    if not found:
        raise FileNotFoundError(f"{folder}: no catalog; run python -m bench.datasets.{name} first (see bench/README.md)")
    return found[0]


def prepare(name: str, split: str, today: datetime, model_name: str) -> Prepared:
    """Index the catalog (once), import the split's history into a fresh store, load every shopper's case."""
    folder = ROOT / name
    catalog_path = folder / "catalog.normalized.jsonl"  # what `catalog import` writes from the shop's export
    if not catalog_path.exists() or catalog_path.stat().st_mtime < catalog_file(name).stat().st_mtime:
        import_catalog(catalog_file(name), catalog_path)
    index_dir = folder / "index"
    if index_status(catalog_path, index_dir, model_name).message != "ok":
        build_index(catalog_path, index_dir, model_name, progress=False)
    store = folder / split
    shutil.rmtree(store, ignore_errors=True)
    held = write_split(folder, store, SPLITS[split], today)
    url = f"sqlite:///{store / 'store.db'}"
    migrate(url)
    engine = make_engine(url)
    try:
        factory = make_session_factory(engine)
        with factory() as session:
            sync_products(session, catalog_path)
            session.commit()
        import_history(url, held.customers_file)
        import_history(url, held.orders_file)
        catalog = Catalog.from_searcher(CatalogSearcher.load(index_dir, model_name))
        with factory() as session:
            model = train(all_lines(session), catalog, today)
            cases = []
            for cid, products in held.targets.items():
                profile = load_profile(session, cid, as_of=today)
                assert profile.personalized, f"{cid}: the imported consent did not reach the profile"
                context = Context(model, catalog, profile)
                lists = {source: SOURCES[source](context, POOL) for source in DISCOVERY}
                lists.update({baseline: method(context, POOL) for baseline, method in BASELINES.items()})
                owned = {row for pid in profile.bought if (row := catalog.row_of.get(pid)) is not None}
                cases.append(Case(profile, {catalog.row_of[pid] for pid in products if pid in catalog.row_of}, owned, lists))
    finally:
        engine.dispose()
    return Prepared(name, catalog, model, cases)


def _ndcg(ranked: list[int], target: set[int]) -> float:
    gains = sum(1.0 / math.log2(rank + 2) for rank, row in enumerate(ranked[:K]) if row in target)
    ideal = sum(1.0 / math.log2(rank + 2) for rank in range(min(len(target), K)))
    return gains / ideal if ideal else 0.0


def score(rankings: list[list[int]], cases: list[Case], mode: str) -> dict[str, float]:
    hits, gains = [], []
    for ranked, case in zip(rankings, cases, strict=True):
        target = case.target if mode == "whole_order" else case.target - case.owned
        if not target:
            continue
        top = ranked[:K] if mode == "whole_order" else [row for row in ranked if row not in case.owned][:K]
        hits.append(any(row in target for row in top))
        gains.append(_ndcg(top, target))
    return {"shoppers": len(hits), "hr@10": round(float(np.mean(hits)), 4), "ndcg@10": round(float(np.mean(gains)), 4)}


def blend_rankings(data: Prepared, policy: Policy, mode: str) -> list[list[int]]:
    """The serving code's lists: ``k`` = 10 for the whole order; for discovery long enough that 10 are left
    once the shopper's own products are dropped."""
    rankings = []
    for case in data.cases:
        request = Request(k=K if mode == "whole_order" else K + len(case.owned), in_stock_only=False)
        context = Context(data.model, data.catalog, case.profile)
        lists = {**case.lists, "again": again(context, POOL, policy.again)}
        items = recommend_for_profile(data.model, data.catalog, case.profile, request, policy, lists)
        rankings.append([data.catalog.row_of[item.product["id"]] for item in items])
    return rankings


def baselines(data: Prepared) -> dict[str, dict[str, dict[str, float]]]:
    return {
        name: {mode: score([[c.row for c in case.lists[name]] for case in data.cases], data.cases, mode) for mode in MODES}
        for name in BASELINES
    }


def _worst_then_mean(ratios: list[float]) -> tuple[float, float]:
    return min(ratios), sum(ratios) / len(ratios)


def choose(prepared: list[Prepared]) -> tuple[Policy, dict[str, Any]]:
    """The discovery weights by discovery NDCG against popularity, then buy-again and the mix by whole-order NDCG
    against own frequency, each by the worst ratio over the datasets (mean to break ties)."""
    base = {data.name: baselines(data) for data in prepared}
    best_discovery: tuple[tuple[float, float], dict[str, float]] | None = None
    for values in itertools.product(*DISCOVERY_GRID.values()):
        weights = dict(zip(DISCOVERY_GRID, values, strict=True))
        policy = replace(DEFAULT_POLICY, discovery=weights)
        ratios = [
            score(blend_rankings(data, policy, "discovery"), data.cases, "discovery")["ndcg@10"]
            / max(base[data.name]["popularity"]["discovery"]["ndcg@10"], 1e-9)
            for data in prepared
        ]
        key = _worst_then_mean(ratios)
        if best_discovery is None or key > best_discovery[0]:
            best_discovery = (key, weights)
    assert best_discovery is not None
    best: tuple[tuple[float, float], Policy] | None = None
    for decay, timing, share in itertools.product(*AGAIN_GRID.values(), SHARE_GRID):
        policy = Policy(discovery=best_discovery[1], again=AgainConfig(decay, timing), discovery_share=share,
                        newcomer=DEFAULT_POLICY.newcomer)
        ratios = [
            score(blend_rankings(data, policy, "whole_order"), data.cases, "whole_order")["ndcg@10"]
            / max(base[data.name]["own_frequency"]["whole_order"]["ndcg@10"], 1e-9)
            for data in prepared
        ]
        key = _worst_then_mean(ratios)
        if best is None or key > best[0]:
            best = (key, policy)
    assert best is not None
    return best[1], {
        "discovery_ratio_to_popularity_worst_mean": best_discovery[0], "whole_ratio_to_own_frequency_worst_mean": best[0],
        "grid": {"discovery": DISCOVERY_GRID, "again": AGAIN_GRID, "discovery_share": SHARE_GRID},
    }


def evaluate(data: Prepared, policies: dict[str, Policy]) -> dict[str, Any]:
    rows: dict[str, Any] = baselines(data)
    for label, policy in policies.items():
        rows[label] = {mode: score(blend_rankings(data, policy, mode), data.cases, mode) for mode in MODES}
    return rows


def policy_json(policy: Policy) -> dict[str, Any]:
    return {"discovery": policy.discovery, "again": vars(policy.again), "discovery_share": policy.discovery_share}
