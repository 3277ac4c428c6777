"""Shopify, WooCommerce and Medusa adapters against local servers that play each platform's API.

For every platform, with the recorded payload shapes of ``tests/fixtures/platforms/`` and the
platform's own authentication, filters, pagination and webhook signatures: a full sync imports
products (one per variant, with size, colour, stock and price) and orders; a second sync asks
only for what changed after the stored cursor and imports just that; a third changes nothing.
A cancellation asked in chat (the chat's own cancel action, run as the action server runs it)
leaves the outbox as the platform's cancel call, and the platform's webhook confirming it, or
the next sync should the webhook be lost, turns the order cancelled with a notice for the
shopper's conversation; a refusal is told too; a forged or stale webhook gets 401 and changes
nothing; a return request becomes the platform's return.  The real catalog index is built (the
packaged MiniLM model), on a real SQLite store (and PostgreSQL for one round trip).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from actions import context
from actions.orders import ActionCancelOrder
from assistant.backend.outbox import OutboxDeliverer, enqueue, make_transport
from assistant.integrations.sync import SyncReport, run_sync
from assistant.launcher import free_port
from assistant.settings import Settings, load_settings
from assistant.store.db import UnitOfWork, make_engine, make_session_factory, open_store
from assistant.store.models import Order, PlatformOrder, ShopperNotice, SyncCursor
from assistant.store.models import Product as MirroredProduct
from assistant.web.app import create_app
from catalog_index.importer import read_catalog
from tests.actions_harness import run, texts, tracker
from tests.platform_fakes import (
    KEY,
    SECRET,
    TOKEN,
    WEBHOOK_SECRET,
    FakeMedusa,
    FakePlatform,
    FakeShopify,
    FakeWooCommerce,
)
from tests.store_fixtures import postgres_url, store_url  # noqa: F401  (fixtures)

SECRETS = {"SHOP_STORE_SECRET": "s", "RASA_AUTH_TOKEN": "t", "ACTION_SERVER_TOKEN": "a", "GATEWAY_TOKEN": "g",
           "SHOP_WEB_SECRET": "w", "SHOP_STOREFRONT_KEY": "k"}


def shopify_env(url: str) -> dict[str, str]:
    return {"SHOPIFY_SHOP_DOMAIN": url, "SHOPIFY_ADMIN_TOKEN": TOKEN, "SHOPIFY_WEBHOOK_SECRET": WEBHOOK_SECRET}


def woocommerce_env(url: str) -> dict[str, str]:
    return {"WOOCOMMERCE_URL": url, "WOOCOMMERCE_KEY": KEY, "WOOCOMMERCE_SECRET": SECRET,
            "WOOCOMMERCE_WEBHOOK_SECRET": WEBHOOK_SECRET}


def medusa_env(url: str) -> dict[str, str]:
    return {"MEDUSA_URL": url, "MEDUSA_API_TOKEN": TOKEN, "MEDUSA_WEBHOOK_SECRET": WEBHOOK_SECRET}


# What the first sync must produce: id -> (title, variant_id, colour, sizes, stock, price, currency)
CATALOG = {
    "shopify": {
        "shopify-44100000000011": ("Trail Runner - Red / 9", "44100000000011", "red", ["9"], {"online": 4}, 89.0, "USD"),
        "shopify-44100000000012": ("Trail Runner - Red / 10", "44100000000012", "red", ["10"], {"online": 0}, 89.0, "USD"),
        "shopify-44100000000013": ("Trail Runner - Blue / 9", "44100000000013", "blue", ["9"], {"online": 7}, 84.0, "USD"),
        "shopify-44100000000021": ("Canvas Tote", "44100000000021", None, [], {"online": 30}, 24.5, "USD"),
    },
    "woocommerce": {
        "woocommerce-732": ("Merino Beanie - Grey", "732", "grey", [], {"online": 8}, 25.0, "EUR"),
        "woocommerce-733": ("Merino Beanie - Green", "733", "green", [], {"online": 0}, 27.0, "EUR"),
        "woocommerce-740": ("Enamel Mug", "740", None, [], {"online": 15}, 12.0, "EUR"),
    },
    "medusa": {
        "medusa-variant_01JD00000000000000000011": ("Linen Shirt - S / White", "variant_01JD00000000000000000011",
                                                    "white", ["S"], {"online": 5}, 45.0, "EUR"),
        "medusa-variant_01JD00000000000000000012": ("Linen Shirt - M / White", "variant_01JD00000000000000000012",
                                                    "white", ["M"], {"online": 2}, 45.0, "EUR"),
        "medusa-variant_01JD00000000000000000021": ("Wool Socks", "variant_01JD00000000000000000021", None,
                                                    ["One size"], {"online": 40}, 9.5, "EUR"),
    },
}
# order number -> (customer, status, [(product, quantity, unit price)], platform id)
ORDERS = {
    "shopify": {
        "1001": ("7000000000001", "paid", [("shopify-44100000000011", 2, 89.0)], "gid://shopify/Order/5900000000101"),
        "1002": ("shopify-guest-5900000000102", "shipped", [("shopify-44100000000021", 2, 24.5)],
                 "gid://shopify/Order/5900000000102"),
    },
    "woocommerce": {
        "2001": ("12", "paid", [("woocommerce-732", 2, 25.0)], "2001"),
        "2002": ("woocommerce-guest-2002", "delivered", [("woocommerce-740", 1, 12.0)], "2002"),
    },
    "medusa": {
        "3001": ("cus_01JD0000000000000000000001", "paid", [("medusa-variant_01JD00000000000000000011", 2, 45.0)],
                 "order_01JD00000000000000000101"),
        "3002": ("medusa-guest-order_01JD00000000000000000102", "delivered",
                 [("medusa-variant_01JD00000000000000000021", 2, 9.5)], "order_01JD00000000000000000102"),
    },
}
CURSORS = {
    "shopify": {"products": "2026-11-22T09:00:00Z", "orders": "2026-11-25T12:00:00Z"},  # a draft counts as seen
    "woocommerce": {"products": "2026-11-21T09:00:00Z", "orders": "2026-11-26T10:00:00Z"},
    "medusa": {"products": "2026-11-21T09:00:00Z", "orders": "2026-11-27T10:00:00Z"},
}


def change_shopify(fake: FakePlatform) -> tuple[str, float, int, str]:
    variant = fake.products[0]["variants"]["nodes"][0]
    variant.update(price="79.00", inventoryQuantity=1)
    fake.products[0]["updatedAt"] = "2026-11-28T09:00:00Z"
    fake.orders[1].update(displayFinancialStatus="REFUNDED", updatedAt="2026-11-28T10:00:00Z")
    return "shopify-44100000000011", 79.0, 1, "1002"


def change_woocommerce(fake: FakePlatform) -> tuple[str, float, int, str]:
    assert isinstance(fake, FakeWooCommerce)
    fake.variations["731"][0].update(price="21.00", stock_quantity=1)
    fake.products[0]["date_modified_gmt"] = "2026-11-28T09:00:00"
    fake.orders[1].update(status="refunded", date_modified_gmt="2026-11-28T10:00:00")
    return "woocommerce-732", 21.0, 1, "2002"


def change_medusa(fake: FakePlatform) -> tuple[str, float, int, str]:
    variant = fake.products[0]["variants"][0]
    variant["prices"][0]["amount"] = 39
    variant["inventory_quantity"] = 1
    fake.products[0]["updated_at"] = "2026-11-28T09:00:00.000Z"
    fake.orders[1].update(payment_status="refunded", updated_at="2026-11-28T10:00:00.000Z")
    return "medusa-variant_01JD00000000000000000011", 39.0, 1, "3002"


@dataclasses.dataclass
class Case:
    fake: Callable[[], FakePlatform]
    env: Callable[[str], dict[str, str]]
    change: Callable[[FakePlatform], tuple[str, float, int, str]]
    read_after_change: int  # catalog rows of the changed product the second sync reads


CASES = {
    "shopify": Case(FakeShopify, shopify_env, change_shopify, 3),
    "woocommerce": Case(FakeWooCommerce, woocommerce_env, change_woocommerce, 2),
    "medusa": Case(FakeMedusa, medusa_env, change_medusa, 2),
}


@dataclasses.dataclass
class Platform:
    name: str
    fake: FakePlatform
    settings: Settings
    case: Case


@pytest.fixture(params=sorted(CASES))
async def platform(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Platform]:
    name = request.param
    case = CASES[name]
    fake = case.fake()
    server = TestServer(fake.app(), host="127.0.0.1")
    await server.start_server()
    settings = load_settings(tmp_path / "store", env={**SECRETS, **case.env(str(server.make_url("")).rstrip("/")),
                                                      "SHOP_RASA_URL": f"http://127.0.0.1:{free_port()}"})
    yield Platform(name, fake, settings, case)
    await server.close()


def catalog_view(settings: Settings) -> dict[str, tuple[Any, ...]]:
    return {p["id"]: (p["title"], p["variant_id"], p["color"], p["sizes"], p["stock"], p["price"], p["currency"])
            for p in read_catalog(settings.catalog_path)}


def store_view(settings: Settings) -> dict[str, Any]:
    """Orders with items and platform ids, products in the mirror, cursors: as another process sees them."""
    engine = make_engine(settings.database_url)
    try:
        with UnitOfWork(make_session_factory(engine)) as uow:
            external = dict(uow.session.execute(select(PlatformOrder.order_number, PlatformOrder.external_id)).all())
            orders = {
                order.order_number: (order.customer_id, order.status,
                                     sorted((i.product_id, i.quantity, i.unit_price) for i in order.items),
                                     external.get(order.order_number))
                for order in (uow.orders.by_number(number) for number in external) if order is not None
            }
            cursors = {row.resource: row.cursor for row in uow.session.scalars(select(SyncCursor))}
            return {"orders": orders, "cursors": cursors}
    finally:
        engine.dispose()


async def test_full_sync_then_only_what_changed_then_nothing(platform: Platform) -> None:
    first = await run_sync(platform.settings, platform.name, progress=False)
    assert catalog_view(platform.settings) == CATALOG[platform.name]
    store = store_view(platform.settings)
    assert store["orders"] == ORDERS[platform.name]
    assert store["cursors"] == CURSORS[platform.name]
    assert platform.fake.filters == [("products", None), ("orders", None)]
    assert (first.products_read, first.products_changed, first.orders_read) == (len(CATALOG[platform.name]),) * 2 + (2,)

    product_id, price, stock, order_number = platform.case.change(platform.fake)
    second = await run_sync(platform.settings, platform.name, progress=False)
    assert platform.fake.filters[2:] == [("products", CURSORS[platform.name]["products"]),
                                         ("orders", CURSORS[platform.name]["orders"])]
    assert (second.products_read, second.products_changed, second.orders_read) == (
        platform.case.read_after_change, 1, 1)
    expected = dict(CATALOG[platform.name])
    expected[product_id] = expected[product_id][:4] + ({"online": stock}, price) + expected[product_id][6:]
    assert catalog_view(platform.settings) == expected
    orders = store_view(platform.settings)["orders"]
    assert orders[order_number][1] == "refunded"
    assert {number: order for number, order in orders.items() if number != order_number} == {
        number: order for number, order in ORDERS[platform.name].items() if number != order_number}

    before = platform.settings.catalog_path.read_bytes()
    third = await run_sync(platform.settings, platform.name, progress=False)
    assert (third.products_read, third.products_changed, third.orders_read) == (0, 0, 0)
    assert platform.settings.catalog_path.read_bytes() == before
    assert store_view(platform.settings)["orders"] == orders

    again = await run_sync(platform.settings, platform.name, full=True, progress=False)  # everything, nothing new
    assert (again.products_read, again.products_changed, again.orders_read) == (len(CATALOG[platform.name]), 0, 2)
    assert platform.settings.catalog_path.read_bytes() == before
    assert "new or changed 0" in again.summary()


async def test_rate_limits_slow_a_sync_down_without_stopping_it(platform: Platform) -> None:
    platform.fake.throttle = 2
    report = await run_sync(platform.settings, platform.name, progress=False)
    assert platform.fake.throttle == 0 and report.products_read == len(CATALOG[platform.name])
    assert catalog_view(platform.settings) == CATALOG[platform.name]
    assert store_view(platform.settings)["orders"] == ORDERS[platform.name]


UNPUBLISHED = {"shopify": ("status", "ARCHIVED", "ACTIVE", "updatedAt", "2026-11-29T09:00:00Z", "2026-11-30T09:00:00Z"),
               "woocommerce": ("status", "draft", "publish", "date_modified_gmt", "2026-11-29T09:00:00",
                               "2026-11-30T09:00:00"),
               "medusa": ("status", "draft", "published", "updated_at", "2026-11-29T09:00:00.000Z",
                          "2026-11-30T09:00:00.000Z")}


def mirror_availability(settings: Settings) -> dict[str, bool]:
    engine = make_engine(settings.database_url)
    try:
        with make_session_factory(engine)() as session:
            return {product.id: bool(product.payload.get("available", True)) for product in session.scalars(
                select(MirroredProduct))}
    finally:
        engine.dispose()


async def test_products_no_longer_sold_leave_the_catalog_and_stay_for_history(platform: Platform) -> None:
    await run_sync(platform.settings, platform.name, progress=False)
    product = platform.fake.products[1]  # the second product: one variant (a tote, a mug, socks)
    [gone_id] = [pid for pid in CATALOG[platform.name] if pid.endswith(("21", "740"))]
    key, off, on, stamp, first, second = UNPUBLISHED[platform.name]

    product.update({key: off, stamp: first})
    report = await run_sync(platform.settings, platform.name, progress=False)
    assert (report.products_read, report.products_withdrawn) == (0, 1)
    assert set(catalog_view(platform.settings)) == set(CATALOG[platform.name]) - {gone_id}
    assert mirror_availability(platform.settings)[gone_id] is False
    last = max(ORDERS[platform.name])
    assert store_view(platform.settings)["orders"][last] == ORDERS[platform.name][last]  # history keeps it

    product.update({key: on, stamp: second})
    report = await run_sync(platform.settings, platform.name, progress=False)
    assert (report.products_changed, report.products_withdrawn) == (1, 0)
    assert catalog_view(platform.settings) == CATALOG[platform.name]
    assert mirror_availability(platform.settings)[gone_id] is True

    platform.fake.products.remove(product)  # deleted outright: no platform reports that as a change
    assert (await run_sync(platform.settings, platform.name, progress=False)).products_withdrawn == 0
    report = await run_sync(platform.settings, platform.name, full=True, progress=False)
    assert (report.products_changed, report.products_withdrawn) == (0, 1)
    assert set(catalog_view(platform.settings)) == set(CATALOG[platform.name]) - {gone_id}
    assert "withdrawn 1" in report.summary()


def request_cancellation(settings: Settings, number: str, sender: str) -> str:
    """What the chat does on "cancel my order": the order waits for the store, the request goes to the outbox."""
    engine = make_engine(settings.database_url)
    try:
        with UnitOfWork(make_session_factory(engine)) as uow:
            order = uow.orders.by_number(number)
            assert order is not None
            assert uow.orders.request_cancellation(order, sender, "rest") == "requested"
            key = enqueue(uow, "cancellation_requested", {"order_number": number, "reason": "changed my mind"},
                          order_id=number)
            uow.commit()
            return key
    finally:
        engine.dispose()


EMAILS = {"shopify": "ana@example.com", "woocommerce": "cleo@example.com", "medusa": "eva@example.com"}


async def cancel_in_chat(platform: Platform, number: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The chat's own cancel action (a guest proving the order with its number and e-mail) on this store."""
    monkeypatch.setattr(context, "_resources", context._Resources(platform.settings))  # restored after the test
    guest = {"order_number": number, "email": EMAILS[platform.name], "pending_cancel_order": number}
    _, messages = await run(ActionCancelOrder(), tracker("order_lookup", slots=guest, text="yes", intent="affirm"))
    assert texts(messages).startswith(f"I've asked the store to cancel order {number}."), texts(messages)


def order_state(settings: Settings, number: str) -> tuple[str, list[str]]:
    """The order's status and the notices waiting for its conversation."""
    engine = make_engine(settings.database_url)
    try:
        with make_session_factory(engine)() as session:
            status = session.scalar(select(Order.status).where(Order.order_number == number))
            notices = list(session.scalars(select(ShopperNotice.text).where(ShopperNotice.order_number == number)))
            return str(status), notices
    finally:
        engine.dispose()


def confirming_webhook(platform: Platform, external_id: str) -> tuple[dict[str, str], bytes]:
    fake = platform.fake
    if isinstance(fake, FakeShopify):
        return fake.cancelled_webhook(external_id)
    if isinstance(fake, FakeWooCommerce):
        return fake.updated_webhook(external_id)
    assert isinstance(fake, FakeMedusa)
    return fake.canceled_webhook(external_id)


def still_paid_webhook(platform: Platform, external_id: str) -> tuple[dict[str, str], bytes]:
    """The platform reporting the order unchanged (paid) while the cancellation is in progress."""
    fake = platform.fake
    if isinstance(fake, FakeShopify):
        headers, body = fake.cancelled_webhook(external_id)
        payload = {**json.loads(body), "cancelled_at": None, "financial_status": "paid"}
        body = json.dumps(payload).encode()
        return {**headers, "X-Shopify-Topic": "orders/updated", **fake.sign(body)}, body
    if isinstance(fake, FakeWooCommerce):
        headers, body = fake.updated_webhook(external_id)
        body = json.dumps({**json.loads(body), "status": "processing"}).encode()
        return {**headers, **fake.sign(body)}, body
    assert isinstance(fake, FakeMedusa)
    body = json.dumps({"id": "evt_2", "event": "order.updated",
                       "data": {"id": external_id, "status": "pending", "payment_status": "captured"}}).encode()
    return {**fake.sign(body), "Content-Type": "application/json"}, body


async def deliver(platform: Platform) -> list[str]:
    """One pass of the outbox with ``SHOP_BACKEND=<platform>``; the keys delivered."""
    with open_store(platform.settings.database_url) as store:
        async with aiohttp.ClientSession() as http:
            transport = make_transport(dataclasses.replace(platform.settings, backend=platform.name), http)
            report = await OutboxDeliverer(store, transport).run_once()
    assert report.failed == [] and report.retrying == []
    return report.delivered


async def test_cancel_asked_in_chat_reaches_the_platform_and_its_webhook_confirms_it(
    platform: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    await run_sync(platform.settings, platform.name, progress=False)
    number = min(ORDERS[platform.name])
    external_id = ORDERS[platform.name][number][3]
    await cancel_in_chat(platform, number, monkeypatch)

    assert len(await deliver(platform)) == 1
    assert platform.fake.calls == [("cancel", external_id)]
    assert order_state(platform.settings, number) == ("cancellation_requested", [])
    assert await deliver(platform) == []  # delivered once

    client = TestClient(TestServer(create_app(platform.settings)))
    await client.start_server()
    try:
        url = f"/api/integrations/{platform.name}/webhook"
        headers, body = confirming_webhook(platform, external_id)
        forged = body.replace(b"}", b', "note": "x"}', 1)
        response = await client.post(url, data=forged, headers=headers)  # signature of another body
        assert response.status == 401
        wrong_key = {name: ("AAAA" + value[4:] if "Signature" in name or "Hmac" in name else value)
                     for name, value in headers.items()}
        assert (await client.post(url, data=body, headers=wrong_key)).status == 401
        assert (await client.post(url, data=body, headers={"Content-Type": "application/json"})).status == 401
        assert order_state(platform.settings, number) == ("cancellation_requested", [])
        paid_headers, paid_body = still_paid_webhook(platform, external_id)
        paid = await client.post(url, data=paid_body, headers=paid_headers)  # no answer yet, not a refusal
        assert paid.status == 200 and (await paid.json())["outcome"] == "ignored"
        assert order_state(platform.settings, number) == ("cancellation_requested", [])

        response = await client.post(url, data=body, headers=headers)
        assert response.status == 200, await response.text()
        assert (await response.json())["order_number"] == number
        status, notices = order_state(platform.settings, number)
        assert status == "cancelled"
        assert len(notices) == 1 and "cancelled" in notices[0]

        repeat = await client.post(url, data=body, headers=headers)  # a replay changes nothing, tells no one again
        assert repeat.status == 200
        assert order_state(platform.settings, number) == ("cancelled", notices)
    finally:
        await client.close()


async def test_a_sync_confirms_a_cancellation_whose_webhook_was_lost(platform: Platform) -> None:
    await run_sync(platform.settings, platform.name, progress=False)
    number = min(ORDERS[platform.name])
    request_cancellation(platform.settings, number, "rest:shopper-3")
    assert len(await deliver(platform)) == 1
    assert order_state(platform.settings, number) == ("cancellation_requested", [])

    report = await run_sync(platform.settings, platform.name, progress=False)  # the platform's webhook never came
    assert (report.orders_read, report.notices) == (1, 1)
    status, notices = order_state(platform.settings, number)
    assert status == "cancelled" and len(notices) == 1 and "cancelled" in notices[0]
    assert "1 answers for shoppers' conversations" in report.summary()
    again = await run_sync(platform.settings, platform.name, full=True, progress=False)
    assert again.notices == 0 and order_state(platform.settings, number) == (status, notices)


@pytest.mark.parametrize("platform", ["medusa", "shopify"], indirect=True)  # WooCommerce sets any status it is sent
async def test_a_cancellation_the_platform_refuses_is_told_to_the_shopper(platform: Platform) -> None:
    await run_sync(platform.settings, platform.name, progress=False)
    number = min(ORDERS[platform.name])
    request_cancellation(platform.settings, number, "rest:shopper-2")
    platform.fake.refuse_cancel = "Cannot cancel an order that has been fulfilled"

    assert len(await deliver(platform)) == 1  # answered, not parked
    status, notices = order_state(platform.settings, number)
    assert status == ORDERS[platform.name][number][1]  # back to what it was before the request
    assert notices == [f"Sorry, the store could not cancel order {number} (Cannot cancel an order that has been "
                       f"fulfilled). It stays {status}; once it arrives you can return it."]


@pytest.mark.parametrize("platform", ["medusa", "shopify"], indirect=True)
async def test_a_repeated_cancel_after_a_lost_answer_is_no_refusal(platform: Platform) -> None:
    await run_sync(platform.settings, platform.name, progress=False)
    number = min(ORDERS[platform.name])
    request_cancellation(platform.settings, number, "rest:shopper-4")
    assert len(await deliver(platform)) == 1
    engine = make_engine(platform.settings.database_url)
    try:
        with UnitOfWork(make_session_factory(engine)) as uow:  # the same request again, as after a lost answer
            enqueue(uow, "cancellation_requested", {"order_number": number}, order_id=number)
            uow.commit()
    finally:
        engine.dispose()
    assert len(await deliver(platform)) == 1
    assert [kind for kind, _ in platform.fake.calls] == ["cancel", "cancel"]
    assert order_state(platform.settings, number) == ("cancellation_requested", [])


async def test_a_return_request_becomes_the_platforms_return(platform: Platform) -> None:
    await run_sync(platform.settings, platform.name, progress=False)
    number = max(ORDERS[platform.name])  # the fulfilled order
    product_id, quantity = ORDERS[platform.name][number][2][0][:2]
    engine = make_engine(platform.settings.database_url)
    try:
        with UnitOfWork(make_session_factory(engine)) as uow:
            key = enqueue(uow, "return_requested", {
                "order_number": number, "return_number": "RT-0A1B2C3D", "reason": "too small",
                "refund_method": "original payment", "items": [{"product_id": product_id, "quantity": quantity}],
            }, order_id=number)
            enqueue(uow, "cart_changed", {"items": []})  # no platform call: acknowledged
            uow.commit()
    finally:
        engine.dispose()
    assert len(await deliver(platform)) == 2 and key
    kinds = [kind for kind, _ in platform.fake.calls]
    external_id = ORDERS[platform.name][number][3]
    if platform.name == "shopify":
        assert platform.fake.calls == [("return", {"orderId": external_id, "returnLineItems": [{
            "fulfillmentLineItemId": "gid://shopify/FulfillmentLineItem/990000000201", "quantity": 2,
            "returnReason": "SIZE_TOO_SMALL", "customerNote": "Return: RT-0A1B2C3D. Refund to: original payment."}]})]
    elif platform.name == "woocommerce":
        assert kinds == ["return"]
        note = platform.fake.calls[0][1]
        assert note["order"] == external_id and note["customer_note"] is False
        assert "1 x 740" in note["note"] and "too small" in note["note"] and "RT-0A1B2C3D" in note["note"]
    else:
        assert kinds == ["return", "request-items", "request"]
        assert platform.fake.calls[0][1]["order_id"] == external_id
        assert platform.fake.calls[1][1]["items"][0]["id"] == "ordli_01JD00000000000000000002"
        assert platform.fake.calls[1][1]["items"][0]["quantity"] == 2


async def test_stale_signed_webhooks_are_refused(tmp_path: Path) -> None:
    """Where the platform dates its webhooks (Shopify, our Medusa subscriber), an old one is a replay: 401."""
    shopify, medusa = FakeShopify(), FakeMedusa()
    settings = load_settings(tmp_path, env={**SECRETS, **shopify_env("http://127.0.0.1:9"),
                                            **medusa_env("http://127.0.0.1:9")})
    client = TestClient(TestServer(create_app(settings)))
    await client.start_server()
    try:
        headers, body = shopify.cancelled_webhook("gid://shopify/Order/1")
        headers["X-Shopify-Triggered-At"] = "2026-01-01T00:00:00Z"
        assert (await client.post("/api/integrations/shopify/webhook", data=body, headers=headers)).status == 401
        body = b'{"event": "order.canceled", "data": {"id": "order_1"}}'
        old = medusa.sign(body, timestamp=1_700_000_000)
        assert (await client.post("/api/integrations/medusa/webhook", data=body, headers=old)).status == 401
        fresh = medusa.sign(body)
        response = await client.post("/api/integrations/medusa/webhook", data=body, headers=fresh)
        assert response.status == 200
        assert "was not imported" in (await response.json())["ignored"]
        unknown = await client.post("/api/integrations/magento/webhook", data=body, headers=fresh)
        assert unknown.status == 404
    finally:
        await client.close()


async def test_woocommerces_signed_ping_is_acknowledged_and_an_unsigned_one_refused(tmp_path: Path) -> None:
    """WooCommerce pings a new webhook's URL with a form body (``webhook_id=…``), signed like any delivery."""
    settings = load_settings(tmp_path, env={**SECRETS, **woocommerce_env("http://127.0.0.1:9")})
    fake = FakeWooCommerce()
    client = TestClient(TestServer(create_app(settings)))
    await client.start_server()
    try:
        body = b"webhook_id=14"
        headers = {**fake.sign(body), "Content-Type": "application/x-www-form-urlencoded"}
        response = await client.post("/api/integrations/woocommerce/webhook", data=body, headers=headers)
        assert response.status == 200 and "not an order update" in (await response.json())["ignored"]
        response = await client.post("/api/integrations/woocommerce/webhook", data=body,
                                     headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert response.status == 401
    finally:
        await client.close()


async def test_without_a_webhook_secret_nothing_is_accepted(tmp_path: Path) -> None:
    settings = load_settings(tmp_path, env=SECRETS)
    fake = FakeWooCommerce()
    client = TestClient(TestServer(create_app(settings)))
    await client.start_server()
    try:
        headers, body = fake.updated_webhook("2001")
        response = await client.post("/api/integrations/woocommerce/webhook", data=body, headers=headers)
        assert response.status == 503
        assert "WOOCOMMERCE_WEBHOOK_SECRET is not set" in (await response.json())["error"]
    finally:
        await client.close()


def test_report_names_what_was_skipped() -> None:
    report = SyncReport("shopify", since={"products": "2026-11-01T00:00:00Z", "orders": None}, products_read=1,
                        products_skipped=["shopify-1: product shopify-1 has no title (or name)"])
    assert report.summary().splitlines()[:2] == [
        "shopify: products (changed after 2026-11-01T00:00:00Z): read 1, new or changed 0",
        "  skipped shopify-1: product shopify-1 has no title (or name)",
    ]


async def test_sync_cancel_and_confirmation_on_each_store(store_url: str, tmp_path: Path) -> None:  # noqa: F811
    """The same Shopify round trip on SQLite and on PostgreSQL (the production profile's store)."""
    fake = FakeShopify()
    server = TestServer(fake.app(), host="127.0.0.1")
    await server.start_server()
    try:
        settings = load_settings(tmp_path / "store", env={
            **SECRETS, **shopify_env(str(server.make_url("")).rstrip("/")), "SHOP_DATABASE_URL": store_url,
            "SHOP_RASA_URL": f"http://127.0.0.1:{free_port()}"})
        platform = Platform("shopify", fake, settings, CASES["shopify"])
        await run_sync(settings, "shopify", progress=False)
        assert store_view(settings)["orders"] == ORDERS["shopify"]
        request_cancellation(settings, "1001", "rest:shopper-5")
        assert len(await deliver(platform)) == 1
        report = await run_sync(settings, "shopify", progress=False)
        assert report.notices == 1 and order_state(settings, "1001")[0] == "cancelled"
        again = await run_sync(settings, "shopify", full=True, progress=False)
        assert (again.products_changed, again.notices) == (0, 0)
    finally:
        await server.close()
