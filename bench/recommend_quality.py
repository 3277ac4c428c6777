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
discovery), and only then scored on the test split (last orders), with a paired bootstrap
95% interval of each difference (shoppers resampled, the same draw for both lists).
Beside it, the blend each store would serve after calibrating itself
(:mod:`assistant.recommend.calibrate`, run on the split's imported history only: its own
last two orders held out, the test orders never seen; its learned discovery ranker when that
beat popularity there) is scored the same way, and its retrain seconds recorded.
The discovery backbone and lifts are compared on the discovery ranking itself
(:func:`assistant.recommend.blend.discovery`, fast enough for the grid); the reported
figures go through the whole serving path (business rules included).
"""

from __future__ import annotations

import itertools
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from assistant.recommend import recommend_for_profile
from assistant.recommend.base import Candidate, Context
from assistant.recommend.blend import BACKBONES, DEFAULT_POLICY, SOURCES, Policy, discovery
from assistant.recommend.calibrate import GRID, calibrate
from assistant.recommend.catalog import Catalog
from assistant.recommend.metrics import BOOTSTRAP, K, hit_and_ndcg, paired_interval
from assistant.recommend.model import Model, train
from assistant.recommend.profile import Profile, load_profile
from assistant.recommend.repurchase import AgainConfig, again, frequency
from assistant.recommend.rules import Request
from assistant.store.db import open_store
from assistant.store.history_import import import_history
from bench.datasets.common import ROOT
from bench.datasets.splits import write_split
from catalog_index.build import build_index, index_status
from catalog_index.importer import import_catalog
from catalog_index.search import CatalogSearcher

POOL = 100
DATASETS = ("demo", "tafeng", "groceries")
SPLITS = {"validation": 2, "test": 1}
DISCOVERY = ("co_purchase", "affinity", "als", "content", "popular", "new_finds")
# kept small (12 discovery rankings, 4 whole-order policies) so the whole choice fits in minutes on two shared cores;
# the lift grid is the one each store's own calibration compares (ALS and content lifts lost on Groceries)
LIFT_GRID = GRID
AGAIN_GRID = {"decay": (0.8, 0.9), "timing": (0.0,)}  # timing 0.3 and decay 1.0 lost on every dataset before
SHARE_GRID = (0.03, 0.05)
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
    calibration: dict[str, Any]  # what the store's own calibration chose on this split's history (its training part)


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
    with open_store(url, migrate_first=True) as store:
        with store.unit_of_work() as uow:
            uow.products.mirror_catalog(catalog_path)
            uow.commit()
        import_history(url, held.customers_file)
        import_history(url, held.orders_file)
        catalog = Catalog.from_searcher(CatalogSearcher.load(index_dir, model_name))
        with store.unit_of_work() as uow:
            lines = list(uow.history.all_lines())
            started = time.perf_counter()
            model = train(lines, catalog, today)
            trained = time.perf_counter() - started
            calibration = calibrate(lines, catalog, today)  # what a retrain of this store runs after the tables
            calibration["retrain_seconds"] = {"tables": round(trained, 1), "calibration": calibration["seconds"]}
            cases = []
            for cid, products in held.targets.items():
                profile = load_profile(uow, cid, as_of=today)
                assert profile.personalized, f"{cid}: the imported consent did not reach the profile"
                context = Context(model, catalog, profile)
                lists = {source: SOURCES[source](context, POOL) for source in DISCOVERY}
                lists.update({baseline: method(context, POOL) for baseline, method in BASELINES.items()})
                owned = {row for pid in profile.bought if (row := catalog.row_of.get(pid)) is not None}
                cases.append(Case(profile, {catalog.row_of[pid] for pid in products if pid in catalog.row_of}, owned, lists))
    return Prepared(name, catalog, model, cases, calibration)


def per_shopper(rankings: list[list[int]], cases: list[Case], mode: str) -> np.ndarray:
    """``(shoppers, 2)``: hit and NDCG@10 of each shopper the mode applies to (discovery: those with a new product)."""
    found = [hit_and_ndcg(ranked, case.target, case.owned, mode, K) for ranked, case in zip(rankings, cases, strict=True)]
    return np.array([pair for pair in found if pair is not None]).reshape(-1, 2)


def summary(values: np.ndarray) -> dict[str, float]:
    return {"shoppers": len(values), "hr@10": round(float(values[:, 0].mean()), 4), "ndcg@10": round(float(values[:, 1].mean()), 4)}


def score(rankings: list[list[int]], cases: list[Case], mode: str) -> dict[str, float]:
    return summary(per_shopper(rankings, cases, mode))


def interval(ours: np.ndarray, theirs: np.ndarray) -> dict[str, float]:
    """NDCG@10 difference (ours - theirs) and its paired bootstrap 95% interval over shoppers."""
    difference, low, high = paired_interval(ours[:, 1], theirs[:, 1], BOOTSTRAP)
    return {"difference": round(difference, 4), "ci95": [round(low, 4), round(high, 4)]}


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


def discovery_rankings(data: Prepared, policy: Policy) -> list[list[int]]:
    """The discovery ranking alone (what the grid compares): backbone lifted by the sources, owned products skipped."""
    return [[c.row for c, _ in discovery(Context(data.model, data.catalog, case.profile), case.lists, policy, case.owned)[:K]]
            for case in data.cases]


def choose(prepared: list[Prepared]) -> tuple[Policy, dict[str, Any]]:
    """The discovery backbone and lifts by discovery NDCG against popularity, then buy-again and the mix by whole-order
    NDCG against own frequency, each by the worst ratio over the datasets (mean to break ties)."""
    base = {data.name: baselines(data) for data in prepared}
    best_discovery: tuple[tuple[float, float], Policy] | None = None
    for backbone in BACKBONES:
        for values in itertools.product(*LIFT_GRID.values()):
            policy = replace(DEFAULT_POLICY, backbone=backbone, discovery=dict(zip(LIFT_GRID, values, strict=True)))
            ratios = [
                score(discovery_rankings(data, policy), data.cases, "discovery")["ndcg@10"]
                / max(base[data.name]["popularity"]["discovery"]["ndcg@10"], 1e-9)
                for data in prepared
            ]
            key = _worst_then_mean(ratios)
            if best_discovery is None or key > best_discovery[0]:
                best_discovery = (key, policy)
    assert best_discovery is not None
    best: tuple[tuple[float, float], Policy] | None = None
    for decay, timing, share in itertools.product(*AGAIN_GRID.values(), SHARE_GRID):
        policy = replace(best_discovery[1], again=AgainConfig(decay, timing), discovery_share=share)
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
        "grid": {"backbone": BACKBONES, "lift": LIFT_GRID, "again": AGAIN_GRID, "discovery_share": SHARE_GRID},
    }


def evaluate(data: Prepared, policies: dict[str, Policy]) -> dict[str, Any]:
    """Each list's figures and, per policy, its paired difference to the baseline each mode must beat."""
    values = {
        name: {mode: per_shopper([[c.row for c in case.lists[name]] for case in data.cases], data.cases, mode) for mode in MODES}
        for name in BASELINES
    }
    rows: dict[str, Any] = {name: {mode: summary(found) for mode, found in modes.items()} for name, modes in values.items()}
    for label, policy in policies.items():
        ours = {mode: per_shopper(blend_rankings(data, policy, mode), data.cases, mode) for mode in MODES}
        rows[label] = {mode: summary(found) for mode, found in ours.items()}
        rows[label]["vs_own_frequency_whole_order"] = interval(ours["whole_order"], values["own_frequency"]["whole_order"])
        rows[label]["vs_popularity_discovery"] = interval(ours["discovery"], values["popularity"]["discovery"])
    return rows


def policy_json(policy: Policy) -> dict[str, Any]:
    return {"backbone": policy.backbone, "discovery": policy.discovery, "again": vars(policy.again),
            "discovery_share": policy.discovery_share}
