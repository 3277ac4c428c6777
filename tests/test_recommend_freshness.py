"""The action server's recommendations stay fresh without stalling a chat turn.

After ``catalog upsert`` changes a price, the next recommendation in the same (running)
action process shows the new price; while the recommendation tables retrain after new
orders, a chat turn is answered from the previous tables, before the retrain finishes
(checked on the order of events, not on time).
"""

from __future__ import annotations

import json
import shutil
import threading
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta

import pytest

from actions.context import searcher, use_settings
from actions.recommend import ActionRecommend, recommender
from assistant import cli
from assistant.recommend.catalog import Catalog
from assistant.recommend.model import Model, train
from assistant.settings import PROJECT_ROOT, Settings, load_settings
from assistant.store.db import open_store
from assistant.store.models import Customer, Order, OrderItem, utcnow
from assistant.store.repositories.history import OrderLine
from tests.actions_harness import SECRETS, action_store, payloads, run, tracker  # noqa: F401

FAN_ORDERS = [["B001", "T001"], ["T001", "K001"], ["T001", "J004"]]


def _order(number: str, customer: str, products: list[str], placed: datetime) -> Order:
    order = Order(order_number=number, customer_id=customer, status="delivered", placed_at=placed, total=1.0, currency="USD")
    order.items = [OrderItem(product_id=pid, quantity=1, unit_price=1.0) for pid in products]
    return order


@pytest.fixture(scope="module")
def shop(action_store: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:  # noqa: F811
    """A store of this module's own (a copy of the action tests' catalog and index) served by the actions."""
    root = tmp_path_factory.mktemp("fresh-shop")
    shutil.copytree(action_store.index_dir, root / "index")
    shutil.copy(action_store.catalog_path, root / "catalog.jsonl")
    settings = load_settings(root, env={**SECRETS, "SHOP_POLICY_FILE": str(PROJECT_ROOT / "store_policy.yml")})
    with open_store(settings.database_url, migrate_first=True) as store, store.unit_of_work() as uow:
        uow.products.mirror_catalog(settings.catalog_path)
        uow.session.add(Customer(id="fan", email="fan@example.com", personalization_consent=True))
        for n, basket in enumerate(FAN_ORDERS):
            uow.session.add(_order(f"F-{n}", "fan", basket, utcnow() - timedelta(days=40 - 10 * n)))
        uow.commit()
    use_settings(settings)
    yield settings
    use_settings(action_store)


async def _cards(shop: Settings) -> list[dict[str, object]]:
    _, messages = await run(ActionRecommend(), tracker("cart", "fan", shop, text="what should I get?", intent="recommend", entities=[]))
    return payloads(messages, "products")[0]["products"]


async def test_a_price_upsert_shows_in_the_next_recommendation(
    shop: Settings, tmp_path, monkeypatch: pytest.MonkeyPatch  # type: ignore[no-untyped-def]
) -> None:
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("SHOP_DATABASE_URL", raising=False)
    before = await _cards(shop)
    target = str(before[0]["id"])
    product = dict(searcher().get(target) or {})
    new_price = round(float(product["price"]) + 7.25, 2)
    changes = tmp_path / "price.jsonl"
    changes.write_text(json.dumps({**product, "price": new_price}) + "\n")
    assert cli.main(["--data-dir", str(shop.data_dir), "catalog", "upsert", str(changes)]) == 0
    after = {card["id"]: card for card in await _cards(shop)}
    assert target in after and after[target]["price"] == new_price != before[0]["price"]


async def test_a_retrain_in_progress_never_blocks_a_chat_turn(shop: Settings) -> None:
    events: list[str] = []
    started, gate = threading.Event(), threading.Event()
    served = recommender()
    catalog = served.catalog
    store = open_store(shop.database_url)
    try:
        with store.unit_of_work() as uow:
            previous = served.models.get(uow, catalog, wait=True)

            def slow_train(lines: Iterable[OrderLine], catalog: Catalog, as_of: datetime) -> Model:
                model = train(lines, catalog, as_of)
                events.append("retrain started")
                started.set()
                gate.wait(timeout=120)  # held until the chat turn below has its answer
                events.append("retrain finished")
                return model

            served.models.trainer = slow_train
            served.models.refresh_seconds = 0.0
            served.models._checked = 0.0  # look at the orders now, as after CHECK_SECONDS
            uow.session.add(_order("F-new", "fan", ["S007"], utcnow()))
            uow.commit()
            cards = await _cards(shop)  # finds the tables stale: starts the retrain, answers at once
            events.append("chat turn answered")
            assert served.models.get(uow, catalog) is previous  # served from the previous tables meanwhile
            started.wait(timeout=120)
            gate.set()
            served.models.join(timeout=120)
            assert served.models.get(uow, catalog) is not previous  # and the new ones once trained
    finally:
        gate.set()
        store.close()
    assert len(cards) == 5
    assert "retrain started" in events and events.index("chat turn answered") < events.index("retrain finished"), events
