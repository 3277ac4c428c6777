"""The store's updates on POST /api/events (the real app factory on a fresh store).

Order status with its date (a stale update changes nothing), a cancellation confirmed or
refused told to the conversation that asked, return status, refunds, stock and price; and a
later history import that does not undo what the store said.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from assistant.launcher import free_port
from assistant.settings import Settings, load_settings
from assistant.store.db import UnitOfWork, make_engine, make_session_factory, migrate
from assistant.store.history_import import import_history
from assistant.store.models import Customer, Order, OrderItem, Product, ShopperNotice
from assistant.web.app import create_app

KEY = "storefront-key-for-tests"
AUTH = {"Authorization": f"Bearer {KEY}"}
PLACED = datetime(2026, 11, 1, 10, tzinfo=UTC)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    settings = load_settings(tmp_path, env={
        "SHOP_EMBEDDING_MODEL": "unused", "SHOP_STORE_SECRET": "s", "RASA_AUTH_TOKEN": "t", "ACTION_SERVER_TOKEN": "a",
        "GATEWAY_TOKEN": "g", "SHOP_WEB_SECRET": "w", "SHOP_STOREFRONT_KEY": KEY,
        "SHOP_RASA_URL": f"http://127.0.0.1:{free_port()}", "SHOP_BACKEND_INTERVAL_SECONDS": "0",
    })
    migrate(settings.database_url)
    engine = make_engine(settings.database_url)
    with UnitOfWork(make_session_factory(engine)) as uow:
        uow.session.add(Customer(id="C1", email="c1@example.com", last_sender_id="web-customer-C1", last_channel="gateway"))
        uow.session.add(Product(id="P1", title="Trail Shoe", price=80.0, currency="USD",
                                payload={"id": "P1", "title": "Trail Shoe", "stock": {"default": 0}}))
        for number, status in (("SA-1", "paid"), ("SA-2", "paid"), ("SA-3", "delivered")):
            order = Order(order_number=number, customer_id="C1", email="c1@example.com", status=status,
                          placed_at=PLACED, total=80.0, currency="USD")
            order.items = [OrderItem(product_id="P1", quantity=1, unit_price=80.0)]
            uow.session.add(order)
        uow.session.flush()
        for number in ("SA-1", "SA-2"):
            assert uow.orders.request_cancellation(uow.orders.by_number(number), "chat-7", "gateway") == "requested"
        uow.returns.create(uow.orders.by_number("SA-3"), [{"product_id": "P1", "quantity": 1}], "too small",
                           "store_credit").number = "RT-00000000AA"
        uow.commit()
    engine.dispose()
    return settings


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[TestClient]:
    client = TestClient(TestServer(create_app(dataclasses.replace(settings))))
    await client.start_server()
    yield client
    await client.close()


def state(settings: Settings) -> dict[str, object]:
    engine = make_engine(settings.database_url)
    try:
        with UnitOfWork(make_session_factory(engine)) as uow:
            orders = {o.order_number: (o.status, o.status_source) for o in uow.session.scalars(select(Order))}
            notices = [(n.sender_id, n.order_number, n.text) for n in uow.session.scalars(select(ShopperNotice))]
            product = uow.session.get(Product, "P1")
            ret = uow.returns.by_number("RT-00000000AA")
            return {"orders": orders, "notices": notices, "price": product.price, "stock": product.payload["stock"],
                    "return": (ret.status, ret.note), "refund": uow.orders.by_number("SA-3").refund}
    finally:
        engine.dispose()


async def test_confirmation_and_refusal_are_applied_and_told_where_they_were_asked(
    client: TestClient, settings: Settings
) -> None:
    response = await client.post("/api/events", headers=AUTH, json=[
        {"type": "order_status", "order_number": "SA-1", "status": "cancelled", "at": "2026-11-02T10:00:00Z"},
        {"type": "cancellation_refused", "order_number": "SA-2", "reason": "already packed"},
    ])
    assert response.status == 200, await response.text()
    assert (await response.json())["updates"] == {"applied": 2}
    now = state(settings)
    assert now["orders"] == {"SA-1": ("cancelled", "store"), "SA-2": ("paid", "store"), "SA-3": ("delivered", None)}
    assert now["notices"] == [
        ("chat-7", "SA-1", "The store has confirmed: order SA-1 is cancelled. If you paid already, the money goes "
                           "back to the way you paid."),
        ("chat-7", "SA-2", "Sorry, the store could not cancel order SA-2 (already packed). It stays paid; once it "
                           "arrives you can return it."),
    ]
    # an older update arriving late (a retried webhook) cannot bring the order back
    stale = await client.post("/api/events", headers=AUTH, json={
        "type": "order_status", "order_number": "SA-1", "status": "paid", "at": "2026-11-01T12:00:00Z"})
    assert (await stale.json())["updates"] == {"stale": 1}
    assert state(settings)["orders"]["SA-1"] == ("cancelled", "store")


async def test_returns_refunds_stock_and_prices(client: TestClient, settings: Settings) -> None:
    response = await client.post("/api/events", headers=AUTH, json=[
        {"type": "return_status", "return_number": "rt-00000000aa", "status": "approved", "note": "Label emailed."},
        {"type": "refund", "order_number": "SA-3", "status": "refunded", "amount": 80},
        {"type": "stock", "product_id": "P1", "stock": {"warehouse": 4}},
        {"type": "price", "product_id": "P1", "price": 64.5},
        {"type": "view", "customer_id": "C1", "product_id": "P1"},
    ])
    assert response.status == 200, await response.text()
    body = await response.json()
    assert body["updates"] == {"applied": 4} and body["by_type"]["view"] == 1
    now = state(settings)
    assert (now["return"], now["stock"], now["price"]) == (("approved", "Label emailed."), {"warehouse": 4}, 64.5)
    assert [text for _, number, text in now["notices"] if number == "SA-3"] == [
        "Update on your return RT-00000000AA (order SA-3): approved. Label emailed.",
        "Order SA-3: your refund of 80.00 USD is refunded.",
    ]


@pytest.mark.parametrize(("update", "problem"), [
    ({"type": "order_status", "order_number": "SA-404", "status": "cancelled"}, "unknown order_number 'SA-404'"),
    ({"type": "order_status", "order_number": "SA-1", "status": "teleported"}, "status must be one of"),
    ({"type": "return_status", "return_number": "RT-NOPE", "status": "approved"}, "unknown return_number"),
    ({"type": "stock", "product_id": "P1", "stock": -3}, "stock must be a whole number"),
    ({"type": "price", "product_id": "P1"}, "a price update needs price"),
    ({"type": "order_status", "order_number": "SA-1", "status": "cancelled", "drop_table": 1}, "unknown fields"),
])
async def test_bad_updates_get_a_clear_answer_and_change_nothing(
    client: TestClient, settings: Settings, update: dict[str, object], problem: str
) -> None:
    before = state(settings)
    response = await client.post("/api/events", headers=AUTH, json=[
        {"type": "order_status", "order_number": "SA-1", "status": "cancelled"}, update])
    assert response.status == 400
    assert problem in json.dumps(await response.json())
    assert state(settings) == before


async def test_updates_need_the_storefront_key(client: TestClient, settings: Settings) -> None:
    response = await client.post("/api/events", json={"type": "order_status", "order_number": "SA-1",
                                                      "status": "cancelled"}, headers={"Authorization": "Bearer x"})
    assert response.status == 401
    assert state(settings)["orders"]["SA-1"] == ("cancellation_requested", "assistant")


def test_a_later_history_import_keeps_what_the_store_and_the_chat_said(settings: Settings, tmp_path: Path) -> None:
    export = tmp_path / "orders.jsonl"
    export.write_text("\n".join(json.dumps({  # order lines exported before the chat and the store changed SA-1
        "order_id": number, "customer_id": "C1", "product_id": "P1", "quantity": 1, "price": 80, "status": "paid",
        "ordered_at": "2026-11-01T10:00:00Z",
    }) for number in ("SA-1", "SA-3")) + "\n")
    report = import_history(settings, export)
    assert report.kept_newer_status == 1, report.summary()
    assert state(settings)["orders"] == {
        "SA-1": ("cancellation_requested", "assistant"),  # asked in chat since the export: kept
        "SA-2": ("cancellation_requested", "assistant"),
        "SA-3": ("paid", None),  # no newer word from the store: the import's status applies
    }


async def test_forget_me_removes_the_notices_and_the_words_of_returns(client: TestClient, settings: Settings) -> None:
    await client.post("/api/events", headers=AUTH, json={"type": "order_status", "order_number": "SA-1",
                                                         "status": "cancelled"})
    assert state(settings)["notices"]
    engine = make_engine(settings.database_url)
    try:
        with UnitOfWork(make_session_factory(engine)) as uow:
            uow.privacy.erase("C1", {"chat-7", "web-customer-C1"})
            uow.commit()
        with UnitOfWork(make_session_factory(engine)) as uow:
            assert uow.session.scalars(select(ShopperNotice)).all() == []
            request = uow.returns.by_number("RT-00000000AA")
            assert request is not None and request.reason == "(erased at the customer's request)"
            assert {(o.notify_sender_id, o.email) for o in uow.session.scalars(select(Order))} == {(None, None)}
    finally:
        engine.dispose()
