"""The store backend through the real stack: a cancellation asked in chat reaches the store, and
its confirmation reaches the shopper; the chat cart checks out on the storefront.

One stack of its own (Rasa, action server, web app) on a copy of the demo store's database,
configured with a signed-webhook backend pointing at a local receiver that verifies every
signature (tests/store_receiver.py) and a Shopify-style cart link to the receiver's storefront
page. The receiver starts in maintenance (503), so the request waits in the outbox first.
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
import time
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from playwright.async_api import expect
from sqlalchemy import select, text

from assistant.identity import sign_customer_token
from assistant.launcher import Ports, running_stack
from assistant.rasa_conversation import Conversation, texts
from assistant.settings import Settings
from assistant.store.db import UnitOfWork, make_engine, make_session_factory
from assistant.store.models import BackendOutboxRow, Order
from tests.browser.conftest import PageFactory
from tests.browser.widget_page import BOT, ask, open_chat, wait_for_reply
from tests.conftest import MODEL_PATH
from tests.store_receiver import StoreReceiver, serve_in_thread

SECRET = "store-backend-e2e-secret"
pytestmark = pytest.mark.integration


def eventually(check: Callable[[], Any], what: str, seconds: float = 120.0) -> Any:
    """Poll ``check`` until it returns something truthy (servers work at their own pace)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.3)
    raise AssertionError(f"gave up waiting for {what}")


@pytest.fixture(scope="module")
def receiver() -> Iterator[tuple[StoreReceiver, str]]:
    store = StoreReceiver(SECRET, up=False)
    with serve_in_thread(store) as url:
        yield store, url


@pytest.fixture(scope="module")
def backend_stack(demo_settings: Settings, receiver: tuple[StoreReceiver, str],
                  tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    if not MODEL_PATH.exists():
        pytest.fail(f"no trained model at {MODEL_PATH}; `make test` trains it first")
    directory = tmp_path_factory.mktemp("backend-store")
    source = demo_settings.database_url.removeprefix("sqlite:///")
    with sqlite3.connect(source) as original, sqlite3.connect(directory / "customers.db") as copy:
        original.backup(copy)
        copy.execute("UPDATE products SET payload = json_set(payload, '$.variant_id', 'V' || id)")
    _, url = receiver
    settings = dataclasses.replace(
        demo_settings, database_url=f"sqlite:///{directory / 'customers.db'}", backend_webhook_url=f"{url}/shop-webhook",
        webhook_secret=SECRET, backend_interval_seconds=0.5, backend_retry_base_seconds=0.3,
        backend_retry_max_seconds=1.0, cart_link_template=f"{url}/cart/{{items}}",
    )
    ports = Ports.free()
    with running_stack(settings, MODEL_PATH, ports, log_dir=tmp_path_factory.mktemp("backend-logs"), demo_mode=True):
        # The first search loads the catalog index and the model in the action server: on a loaded
        # machine that outlasts the web app's wait for Rasa, so it happens here, before any shopper.
        Conversation(f"http://127.0.0.1:{ports.rasa}", settings.gateway_token, "warm-up").say("hiking boots",
                                                                                             timeout=600)
        yield {"settings": settings, "ports": ports}


def store(settings: Settings) -> Any:
    engine = make_engine(settings.database_url)
    return engine, make_session_factory(engine)


def cancellable_order(settings: Settings) -> tuple[str, str]:
    engine, factory = store(settings)
    try:
        with UnitOfWork(factory) as uow:
            order = uow.session.scalars(
                select(Order).where(Order.status.in_(("placed", "paid"))).order_by(Order.id)).first()
            assert order is not None, "the demo store has no order that can still be cancelled"
            assert order.shipment is None or order.shipment.shipped_at is None
            return order.order_number, order.customer_id
    finally:
        engine.dispose()


def row(settings: Settings, order_number: str) -> tuple[str, list[BackendOutboxRow]]:
    engine, factory = store(settings)
    try:
        with factory() as session:
            status = session.scalars(select(Order.status).where(Order.order_number == order_number)).one()
            requests = list(session.scalars(select(BackendOutboxRow).where(BackendOutboxRow.order_id == order_number)))
            return status, requests
    finally:
        engine.dispose()


def bot_texts(settings: Settings, rasa_url: str, sender: str) -> list[str]:
    url = f"{rasa_url}/conversations/{sender}/tracker?token={settings.rasa_token}"
    with urllib.request.urlopen(url, timeout=30) as response:
        events = json.loads(response.read())["events"]
    return [event.get("text") or "" for event in events if event["event"] == "bot"]


def test_a_cancellation_waits_for_the_store_then_its_confirmation_reaches_the_shopper(
    backend_stack: dict[str, Any], receiver: tuple[StoreReceiver, str]
) -> None:
    settings: Settings = backend_stack["settings"]
    ports = backend_stack["ports"]
    rasa_url = f"http://127.0.0.1:{ports.rasa}"
    number, customer = cancellable_order(settings)
    chat = Conversation(rasa_url, settings.gateway_token, f"web-customer-{customer}",
                        sign_customer_token(customer, settings.store_secret))

    asked = texts(chat.say(f"please cancel my order {number}"))
    assert f"cancel order {number}" in asked, asked
    answer = texts(chat.say("yes"))
    assert f"I've asked the store to cancel order {number}" in answer and "pending" in answer, answer

    # The store is in maintenance: the request waits in the outbox, retried, and the order is only "requested".
    store_side, _ = receiver
    eventually(lambda: store_side.attempts.count(row(settings, number)[1][0].idempotency_key) >= 2,
               "two refused attempts while the store is down")
    status, requests = row(settings, number)
    assert status == "cancellation_requested"
    assert [(r.kind, r.delivered_at) for r in requests] == [("cancellation_requested", None)]
    assert "503" in (requests[0].last_error or "")

    store_side.up = True
    eventually(lambda: row(settings, number)[1][0].delivered_at, "the request delivered once the store is back")
    handled = [doc for doc in store_side.handled if doc["order_id"] == number]
    assert [(doc["kind"], doc["data"]["order_number"]) for doc in handled] == [("cancellation_requested", number)]
    assert store_side.forged == 0

    # The store confirms through POST /api/events: the order turns cancelled and the shopper is told.
    body = json.dumps({"type": "order_status", "order_number": number, "status": "cancelled"}).encode()
    request = urllib.request.Request(f"http://127.0.0.1:{ports.web}/api/events", data=body, headers={
        "Content-Type": "application/json", "Authorization": f"Bearer {settings.storefront_key}"})
    with urllib.request.urlopen(request, timeout=60) as response:
        result = json.loads(response.read())
    assert result["updates"] == {"applied": 1} and result["shoppers_to_tell"] == 1
    told = f"The store has confirmed: order {number} is cancelled."
    eventually(lambda: any(t.startswith(told) for t in bot_texts(settings, rasa_url, chat.sender)),
               "the confirmation in the shopper's conversation")
    assert row(settings, number)[0] == "cancelled"
    # once: a repeated webhook changes nothing and tells nothing again
    with urllib.request.urlopen(request, timeout=60) as response:
        assert json.loads(response.read())["updates"] == {"unchanged": 1}
    assert sum(t.startswith(told) for t in bot_texts(settings, rasa_url, chat.sender)) == 1


async def test_checkout_opens_the_storefront_with_the_carts_variants_and_fires_the_dom_event(
    new_page: PageFactory, backend_stack: dict[str, Any], screenshot: Any
) -> None:
    settings: Settings = backend_stack["settings"]
    page = await new_page("checkout")
    await page.goto(f"http://127.0.0.1:{backend_stack['ports'].web}/")
    await page.evaluate("window.__carts = []; window.addEventListener('shop-assistant:cart', "
                        "function (e) { window.__carts.push(e.detail); });")
    await open_chat(page)
    await ask(page, "hiking boots under 150")
    cards = page.get_by_test_id("product-card").filter(has=page.locator('[data-testid="add-to-cart"]:enabled'))
    await expect(cards.first).to_be_visible()
    chosen = [await cards.nth(index).get_attribute("data-product-id") for index in range(2)]
    for index in range(2):
        before = await page.locator(BOT).count()
        await cards.nth(index).get_by_test_id("add-to-cart").click()
        await wait_for_reply(page, before)
    await expect(page.get_by_test_id("cart-summary").last).to_be_visible()

    engine, factory = store(settings)
    try:
        with factory() as session:
            added = session.execute(text(
                "SELECT ci.product_id, ci.quantity FROM cart_items ci JOIN carts c ON c.id = ci.cart_id "
                "WHERE ci.product_id IN (:a, :b) ORDER BY ci.added_at DESC LIMIT 2"), {"a": chosen[0], "b": chosen[1]})
            quantities = {product: quantity for product, quantity in added}
    finally:
        engine.dispose()
    expected = [(f"V{product}", quantities[product]) for product in chosen]

    checkout = page.get_by_test_id("checkout").last
    href = await checkout.get_attribute("href")
    assert href == f"{settings.cart_link_template.split('{items}')[0]}" + ",".join(f"{v}:{q}" for v, q in expected)
    detail = await page.evaluate("window.__carts[window.__carts.length - 1]")
    assert [(item["variant_id"], item["quantity"]) for item in detail["items"]] == expected
    assert detail["checkout_url"] == href

    async with page.context.expect_page() as opened:
        await checkout.click()
    storefront = await opened.value
    await storefront.wait_for_load_state()
    assert storefront.url == href
    shown = await storefront.eval_on_selector_all(
        "#cart li", "items => items.map(li => [li.dataset.variant, Number(li.dataset.qty)])")
    assert [tuple(line) for line in shown] == expected
    await screenshot(page, "cart-with-checkout")
    assert not new_page.errors
