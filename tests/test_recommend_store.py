"""Recommendations from a real SQLite store: consent, reasons, cached tables and the CLI batch form.

The store is this module's own (migrated, seeded below) on the catalog index the action
tests build, so nothing here depends on other tests' rows.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from assistant import cli
from assistant.recommend import Recommender, Request
from assistant.recommend.artifacts import META
from assistant.recommend.engine import ARTIFACTS_DIR
from assistant.settings import Settings, load_settings
from assistant.store.db import Store, open_store
from assistant.store.models import Customer, Order, OrderItem, utcnow
from catalog_index.search import CatalogSearcher
from tests.actions_harness import SECRETS, action_store  # noqa: F401

TWINS = {"yes": True, "no": False, "unasked": None}
THEIR_ORDERS = [["B001", "T001"], ["J004"], ["K001"]]
OTHERS = [["B001", "T007"], ["B001", "T007", "K002"], ["T001", "T006"], ["T001", "T006", "T008"], ["J004", "J002"]]


def _seed(factory: Store) -> None:
    now = utcnow()
    with factory.unit_of_work() as uow:
        number = 0
        owners = [(cid, consent, THEIR_ORDERS) for cid, consent in TWINS.items()]
        owners += [(f"other{n}", True, [basket]) for n, basket in enumerate(OTHERS)]
        for customer_id, consent, baskets in owners:
            uow.session.add(Customer(id=customer_id, personalization_consent=consent))
            for age, basket in enumerate(baskets):
                number += 1
                order = Order(order_number=f"R-{number}", customer_id=customer_id, status="delivered",
                              placed_at=now - timedelta(days=30 - age * 5), total=1.0, currency="USD")
                order.items = [OrderItem(product_id=pid, quantity=1, unit_price=1.0) for pid in basket]
                uow.session.add(order)
        uow.commit()


@pytest.fixture(scope="module")
def store(action_store: Settings, tmp_path_factory: pytest.TempPathFactory) -> Settings:  # noqa: F811
    root = tmp_path_factory.mktemp("recommend-store")
    shutil.copytree(action_store.index_dir, root / "index")
    shutil.copy(action_store.catalog_path, root / "catalog.jsonl")
    settings = load_settings(root, env=SECRETS)
    with open_store(settings.database_url, migrate_first=True) as opened:
        with opened.unit_of_work() as uow:
            uow.products.mirror_catalog(settings.catalog_path)
            uow.commit()
        _seed(opened)
    return settings


@pytest.fixture(scope="module")
def searcher(store: Settings) -> CatalogSearcher:
    return CatalogSearcher.load(store.index_dir, store.embedding_model)


def _recommender(store: Settings, searcher: CatalogSearcher, wait: bool = True) -> Recommender:
    return Recommender(searcher, store.data_dir / ARTIFACTS_DIR, wait_for_tables=wait)


@pytest.fixture(scope="module")
def sessions(store: Settings) -> Iterator[Store]:
    with open_store(store.database_url) as opened:
        yield opened


def _ids(items: list) -> list[str]:  # type: ignore[type-arg]
    return [item.product["id"] for item in items]


def test_without_a_yes_no_history_is_used(store: Settings, searcher: CatalogSearcher, sessions: Store) -> None:
    recommender = _recommender(store, searcher)
    request = Request(k=8)
    with sessions.unit_of_work() as uow:
        anonymous, anonymous_personal = recommender.recommend(uow, None, request)
        results = {cid: recommender.recommend(uow, cid, request) for cid in TWINS}
    assert not anonymous_personal
    assert results["yes"][1] and _ids(results["yes"][0]) != _ids(anonymous)
    for refusing in ("no", "unasked"):
        items, personal = results[refusing]
        assert not personal
        assert _ids(items) == _ids(anonymous)
        assert [item.reason for item in items] == [item.reason for item in anonymous]


def test_reasons_name_what_the_consenting_customer_bought(store: Settings, searcher: CatalogSearcher, sessions: Store) -> None:
    recommender = _recommender(store, searcher)
    with sessions.unit_of_work() as uow:
        items, _ = recommender.recommend(uow, "yes", Request(k=8))
    catalog = recommender.catalog
    owned = {pid for basket in THEIR_ORDERS for pid in basket}
    bought = [catalog.get(pid) for pid in owned]
    titles = {product["title"] for product in bought}
    places = {product[key] for product in bought for key in ("category", "subcategory")}
    brands = {product["brand"] for product in bought}
    assert not owned & set(_ids(items))  # nothing here is a consumable
    everything = {p["title"] for p in catalog.products}
    for item in items:
        named = {title for title in everything if f"the {title}" in item.reason}
        assert named <= titles, item.reason
        if item.source == "affinity":
            assert any(f"Popular in {place}, " in item.reason for place in places), item.reason
            assert "a brand you like" not in item.reason or any(f"from {brand}, " in item.reason for brand in brands)
        elif item.source in ("co_purchase", "content", "als"):
            assert named, item.reason
    assert {item.source for item in items} & {"co_purchase", "content", "als", "affinity"}


def test_trained_tables_are_cached_and_retrained_in_the_background_when_orders_change(
    store: Settings, searcher: CatalogSearcher, sessions: Store
) -> None:
    recommender = _recommender(store, searcher)
    catalog = recommender.catalog
    with sessions.unit_of_work() as uow:
        first = recommender.models.get(uow, catalog, wait=True)
        assert recommender.models.get(uow, catalog) is first
    meta = json.loads((store.data_dir / "recommend" / META).read_text())
    reloaded = _recommender(store, searcher, wait=False)  # another process: a server
    reloaded.models.refresh_seconds = 0.0
    row = catalog.row_of["S007"]
    with sessions.unit_of_work() as uow:
        assert reloaded.models.get(uow, catalog).buyers.tolist() == first.buyers.tolist()
        uow.session.add(Order(order_number="R-new", customer_id="other0", status="paid", placed_at=utcnow(), total=1.0,
                          items=[OrderItem(product_id="S007", quantity=1, unit_price=1.0)]))
        uow.commit()
        served = reloaded.models.get(uow, catalog)  # stale now: answered from the previous tables ...
    assert served.buyers[row] == first.buyers[row]
    reloaded.models.join(timeout=120)  # ... while the retrain runs in its thread
    with sessions.unit_of_work() as uow:
        fresh = reloaded.models.get(uow, catalog)
    assert fresh.buyers[row] == first.buyers[row] + 1
    assert json.loads((store.data_dir / "recommend" / META).read_text())["fingerprint"] != meta["fingerprint"]


def test_cli_batch_answers_one_line_per_customer_in_order(
    store: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("SHOP_DATABASE_URL", raising=False)
    ids = tmp_path / "customers.txt"
    ids.write_text("unasked\nyes\n\nnobody-known\nyes\n")
    assert cli.main(["--data-dir", str(store.data_dir), "recommend", "--customers", str(ids), "--k", "3", "--json"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["customer"] for line in lines] == ["unasked", "yes", "nobody-known", "yes"]
    assert [line["personalized"] for line in lines] == [False, True, False, True]
    assert all(len(line["items"]) == 3 and all(item["reason"] for item in line["items"]) for line in lines)
    assert lines[1] == lines[3]
