"""Per-store calibration: the discovery setting that wins on the store's own history is the one served.

The history is generated here so the truth is known: one big department dominates the store's
popularity, and every shopper keeps buying new products in their own department only, so
popularity within the shopper's departments (the ``affinity`` backbone) must beat any
store-wide backbone, even one lifted by departments.  A thin history keeps the default.
The round trip goes through a real SQLite store and the table cache a server uses.
"""

from __future__ import annotations

import json
import random
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from assistant.recommend.artifacts import ModelCache
from assistant.recommend.blend import DEFAULT_POLICY
from assistant.recommend.calibrate import MIN_SHOPPERS, calibrate, policy_of
from assistant.recommend.catalog import Catalog
from assistant.recommend.engine import recommend_for_profile
from assistant.recommend.profile import Profile
from assistant.recommend.rules import Request
from assistant.store.db import Store, open_store
from assistant.store.models import Customer, Order, OrderItem, utcnow
from assistant.store.repositories.history import OrderLine

DEPARTMENTS = 8
PER_DEPARTMENT = 15
NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)


def _catalog() -> Catalog:
    products: list[dict[str, Any]] = [
        {"id": f"D{d}-{n:02d}", "title": f"Department {d} item {n}", "category": f"department {d}",
         "subcategory": f"department {d} aisle {n % 3}", "price": 3.0 + n, "tags": []}
        for d in range(DEPARTMENTS) for n in range(PER_DEPARTMENT)
    ]
    vectors = np.random.default_rng(3).normal(size=(len(products), 8)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return Catalog(products, vectors)


def _history(big: int, small: int, now: datetime) -> list[OrderLine]:
    """``big`` shoppers in department 0 and ``small`` in each other one; five orders of two of their department's products."""
    rng = random.Random(11)
    lines: list[OrderLine] = []
    order = 0
    shoppers = [(f"big{c}", 0) for c in range(big)]
    shoppers += [(f"d{d}s{c}", d) for d in range(1, DEPARTMENTS) for c in range(small)]
    for customer, department in shoppers:
        for trip in range(5):
            order += 1
            when = now - timedelta(days=150 - 30 * trip - rng.uniform(0, 5))
            for n in rng.sample(range(PER_DEPARTMENT), 2):
                lines.append(OrderLine(customer, order, f"D{department}-{n:02d}", when))
    return lines


def test_calibration_picks_the_departments_backbone_where_it_clearly_wins() -> None:
    catalog = _catalog()
    found = calibrate(_history(big=100, small=20, now=NOW), catalog, NOW)
    assert found["calibrated"], found["why"]
    assert found["eligible_shoppers"] == 240
    assert found["policy"]["backbone"] == "affinity"
    figures = {(s["backbone"], tuple(sorted(s["discovery"].items()))): s["ndcg@10"] for s in found["settings"]}
    best_store_wide = max(value for (backbone, _), value in figures.items() if backbone != "affinity")
    assert found["validation"]["ndcg@10"] > 1.5 * best_store_wide
    assert found["validation"]["ndcg@10"] > found["validation"]["default_ndcg@10"]
    assert policy_of(found).backbone == "affinity"


def test_thin_history_keeps_the_shipped_default() -> None:
    catalog = _catalog()
    found = calibrate(_history(big=40, small=5, now=NOW), catalog, NOW)  # 75 shoppers with >= 2 orders
    assert found["eligible_shoppers"] < MIN_SHOPPERS
    assert not found["calibrated"] and "too little history" in found["why"]
    assert policy_of(found) == DEFAULT_POLICY


def test_a_stored_choice_this_code_does_not_know_is_not_trusted() -> None:
    assert policy_of({"policy": {"backbone": "../etc", "discovery": {}}}) == DEFAULT_POLICY
    assert policy_of({"policy": {"backbone": "popular", "discovery": {"nonsense": 1.0}}}) == DEFAULT_POLICY
    assert policy_of(None) == DEFAULT_POLICY


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Store, Catalog, datetime]]:
    """A migrated SQLite store holding the clear-winner history (orders placed up to now)."""
    root = tmp_path_factory.mktemp("calibration-store")
    url = f"sqlite:///{root / 'store.db'}"
    catalog = _catalog()
    now = utcnow()
    with open_store(url, migrate_first=True) as factory:
        catalog_path = root / "catalog.jsonl"
        catalog_path.write_text("".join(json.dumps(product) + "\n" for product in catalog.products))
        with factory.unit_of_work() as uow:
            uow.products.mirror_catalog(catalog_path)
            orders: dict[int, Order] = {}
            for line in _history(big=100, small=20, now=now):
                if uow.session.get(Customer, line.customer_id) is None:
                    uow.session.add(Customer(id=line.customer_id, personalization_consent=True))
                    uow.session.flush()
                if line.order_id not in orders:
                    orders[line.order_id] = Order(order_number=f"C-{line.order_id}", customer_id=line.customer_id,
                                                  status="delivered", placed_at=line.at, total=1.0, currency="USD")
                    uow.session.add(orders[line.order_id])
                orders[line.order_id].items.append(OrderItem(product_id=line.product_id, quantity=1, unit_price=1.0))
            uow.commit()
        yield factory, catalog, now


def test_the_choice_round_trips_through_the_stored_tables_and_is_served(
    store: tuple[Store, Catalog, datetime], tmp_path: Path,
) -> None:
    factory, catalog, now = store
    directory = tmp_path / "recommend"
    with factory.unit_of_work() as uow:
        first = ModelCache(directory)
        assert first.policy == DEFAULT_POLICY  # nothing trained yet
        model = first.get(uow, catalog, wait=True)
        assert first.policy.backbone == "affinity"
        again = ModelCache(directory)  # another process: reads the stored tables and their calibration
        again.get(uow, catalog)
        assert not again.retraining
        assert again.policy == first.policy
    # served: a small department's shopper is offered their own department's products, with true reasons
    shopper = [line for line in _history(big=100, small=20, now=now) if line.customer_id == "d3s0"]
    profile = Profile(now, "d3s0", sorted(shopper, key=lambda line: line.at), personalized=True)
    owned = {line.product_id for line in shopper}
    items = recommend_for_profile(model, catalog, profile, Request(k=len(owned) + 5, in_stock_only=False), again.policy)
    new = [item for item in items if item.product["id"] not in owned]
    assert new and all(item.product["category"] == "department 3" for item in new)
    assert all("which you shop often" in item.reason for item in new if item.source == "affinity")


def test_a_failed_calibration_still_swaps_in_the_new_tables_with_the_default(
    store: tuple[Store, Catalog, datetime], tmp_path: Path,
) -> None:
    factory, catalog, _ = store

    def broken(lines: list[OrderLine], catalog: Catalog, as_of: datetime) -> dict[str, Any]:
        raise RuntimeError("calibration broke")

    with factory.unit_of_work() as uow:
        cache = ModelCache(tmp_path / "recommend", calibrator=broken)
        model = cache.get(uow, catalog, wait=True)
    assert model.buyers.sum() > 0
    assert cache.policy == DEFAULT_POLICY


def test_new_tables_are_served_while_their_calibration_still_runs(
    store: tuple[Store, Catalog, datetime], tmp_path: Path,
) -> None:
    """Calibration (the discovery ranker's fit) can take minutes: the fresh tables must not wait for it.
    Asserted on the order of events: the tables are served while the calibrator is held, and its choice
    arrives beside them once it is released."""
    factory, catalog, _ = store
    calibrating, release = threading.Event(), threading.Event()

    def held(lines: list[OrderLine], catalog: Catalog, as_of: datetime) -> dict[str, Any]:
        calibrating.set()
        assert release.wait(120), "the test never released the calibration"
        return calibrate(lines, catalog, as_of)

    cache = ModelCache(tmp_path / "recommend", calibrator=held)

    def train_and_calibrate() -> None:
        with factory.unit_of_work() as uow:
            cache.get(uow, catalog, wait=True)

    training = threading.Thread(target=train_and_calibrate)
    training.start()
    try:
        assert calibrating.wait(120), "the retrain never reached its calibration"
        with factory.unit_of_work() as uow:
            served = cache.get(uow, catalog)
        assert served.buyers.sum() > 0  # the new tables, not empty ones
        assert cache.policy == DEFAULT_POLICY  # no calibration yet
    finally:
        release.set()
        training.join(120)
    assert cache.policy.backbone == "affinity"  # the calibration's choice, served with the same tables
