"""The chat widget in a real Chromium against the real stack (Rasa, actions, web app).

Each test is what a shopper does: open the storefront, click the bubble, type, click a
card, reload.  Assertions check what the page shows against the store's own data.
"""

from __future__ import annotations

import re
from typing import Any

from playwright.async_api import Route, WebSocketRoute, expect

from assistant.store.db import UnitOfWork, make_engine, make_session_factory
from tests.browser.conftest import PageFactory
from tests.browser.widget_page import BOT, SYSTEM, USER, ask, open_chat, wait_for_reply

CANARY_TITLE = "<img src=x onerror=alert(1)> Test Listing"
PHONE = {"width": 375, "height": 740}


async def test_guest_searches_adds_to_cart_and_keeps_history_after_reload(
    new_page: PageFactory, web_url: str, catalog: dict[str, dict[str, Any]], screenshot: Any
) -> None:
    page = await new_page("guest")
    await page.goto(web_url + "/")
    await open_chat(page)
    await ask(page, "hiking boots under 150")

    cards = page.get_by_test_id("product-card")
    await expect(cards.first).to_be_visible()
    ids = [await card.get_attribute("data-product-id") for card in await cards.all()]
    assert ids and all(pid in catalog for pid in ids)
    assert all((catalog[pid].get("price") or 0) <= 150 for pid in ids), "a carousel card costs more than asked"
    first = cards.first
    title = catalog[ids[0]]["title"]
    await expect(first.locator("img")).to_have_attribute("alt", title)
    await screenshot(page, "carousel")

    in_stock = cards.filter(has=page.locator('[data-testid="add-to-cart"]:enabled')).first
    chosen = await in_stock.get_attribute("data-product-id")
    before = await page.locator(BOT).count()
    await in_stock.get_by_test_id("add-to-cart").click()
    await wait_for_reply(page, before)
    # Rasa sends an utterance's text and its json_message as two messages.
    await expect(page.locator(BOT).filter(has_text=f"Added 1 x {catalog[chosen]['title']}")).to_have_count(1)
    await expect(page.get_by_test_id("cart-summary").last).to_contain_text(catalog[chosen]["title"])

    await page.reload()
    await open_chat(page)
    await expect(page.locator(USER).first).to_contain_text("hiking boots under 150")
    await expect(page.locator(USER).last).to_contain_text(f"Add to cart: {catalog[chosen]['title']}")
    await expect(page.locator(BOT).filter(has_text=f"Added 1 x {catalog[chosen]['title']}")).to_have_count(1)
    await expect(page.get_by_test_id("product-card").first).to_be_visible()
    assert await page.locator(USER).count() == 2, "history after a reload lost or repeated a message"
    await screenshot(page, "after-reload")
    assert not new_page.errors


async def test_signed_in_shopper_sees_the_order_status_card(
    new_page: PageFactory, web_url: str, stack: dict[str, Any]
) -> None:
    engine = make_engine(stack["settings"].database_url)
    try:
        with UnitOfWork(make_session_factory(engine)) as uow:
            latest = uow.orders.latest_for_customer("C0001")
            assert latest is not None, "the demo customer has no orders"
            number, status = latest.order_number, latest.status
    finally:
        engine.dispose()

    page = await new_page("customer")
    await page.goto(web_url + "/?login=demo")
    await expect(page.get_by_test_id("account")).to_contain_text("Logged in as demo customer C0001")
    await open_chat(page)
    await ask(page, "where is my order")
    card = page.get_by_test_id("order-card")
    await expect(card).to_be_visible()
    await expect(card).to_contain_text(f"Order {number}")
    await expect(card).to_contain_text(status.replace("_", " "))


async def test_markup_in_a_product_title_shows_as_text(
    new_page: PageFactory, web_url: str, catalog: dict[str, dict[str, Any]]
) -> None:
    canary = next(pid for pid, product in catalog.items() if product["title"] == CANARY_TITLE)
    page = await new_page("xss")
    await page.goto(web_url + "/")
    await open_chat(page)
    await ask(page, "test listing scented candle")
    card = page.locator(f'[data-testid="product-card"][data-product-id="{canary}"]')
    await expect(card).to_be_visible()
    await expect(card.locator(".sa-card-title")).to_have_text(CANARY_TITLE)
    assert await page.locator(".sa-log img[src='x']").count() == 0
    await page.wait_for_timeout(300)  # give an injected onerror handler the time it would need
    assert new_page.dialogs == [], f"a dialog opened: {new_page.dialogs}"


async def test_expired_and_forged_customer_tokens_are_refused(new_page: PageFactory, web_url: str) -> None:
    expired = await new_page("expired")
    await expired.goto(web_url + "/?login=expired")
    await open_chat(expired)
    await expect(expired.locator(SYSTEM).first).to_contain_text("Your store login is not valid or has expired")

    # A page that embeds the widget with a token the store never signed.
    forged = await new_page("forged")
    host = web_url + "/forged-host-page"
    body = (
        '<!doctype html><html lang="en"><title>Shop</title><body><h1>Someone else\'s shop</h1>'
        f'<script src="{web_url}/static/widget.js" data-customer-token="eyJzdWIiOiJDMDAwMSJ9.Zm9yZ2Vk"></script>'
    )
    await forged.route(host, lambda route: route.fulfill(status=200, content_type="text/html", body=body))
    await forged.goto(host)
    await open_chat(forged)
    await expect(forged.locator(SYSTEM).first).to_contain_text("Your store login is not valid or has expired")
    await forged.get_by_test_id("chat-input").fill("where is my order")
    await forged.get_by_test_id("chat-input").press("Enter")
    await expect(forged.locator(SYSTEM)).to_have_count(2)
    assert await forged.get_by_test_id("order-card").count() == 0


async def test_keyboard_only_and_the_reply_is_announced(new_page: PageFactory, web_url: str) -> None:
    page = await new_page("keyboard")
    await page.goto(web_url + "/")
    launcher = page.get_by_test_id("chat-launcher")
    for _ in range(15):
        await page.keyboard.press("Tab")
        if await launcher.evaluate("node => node === document.activeElement"):
            break
    await expect(launcher).to_be_focused()
    await page.keyboard.press("Enter")
    await expect(page.get_by_test_id("chat-panel")).to_be_visible()
    await expect(page.get_by_test_id("chat-input")).to_be_focused()
    await expect(launcher).to_have_attribute("aria-expanded", "true")

    before = await page.locator(BOT).count()
    await page.keyboard.type("red running shoes")
    await page.keyboard.press("Enter")
    await wait_for_reply(page, before)
    live = page.get_by_test_id("chat-live")
    await expect(live).to_have_attribute("aria-live", "polite")
    await expect(live).to_contain_text("Assistant:")
    await expect(live).to_contain_text((await page.locator(BOT).last.locator(".sa-text").inner_text())[:20])

    await page.keyboard.press("Tab")  # the send button
    await expect(page.get_by_test_id("chat-send")).to_be_focused()
    await page.keyboard.press("Escape")
    await expect(page.get_by_test_id("chat-panel")).to_be_hidden()
    await expect(launcher).to_be_focused()
    await expect(launcher).to_have_attribute("aria-expanded", "false")


async def test_dropped_stream_and_offline_message_lose_and_repeat_nothing(new_page: PageFactory, web_url: str) -> None:
    page = await new_page("offline")
    streams: list[WebSocketRoute] = []

    def relay(stream: WebSocketRoute) -> None:
        stream.connect_to_server()
        streams.append(stream)

    await page.route_web_socket(re.compile(r"/api/chat/stream$"), relay)
    await page.goto(web_url + "/")
    await open_chat(page)
    await ask(page, "hello")
    panel = page.get_by_test_id("chat-panel")
    await expect(panel).to_have_attribute("data-stream", "open")

    await streams[-1].close(code=1012)  # the network drops the live stream
    await expect(panel).to_have_attribute("data-stream", "closed")
    await page.context.set_offline(True)
    before = await page.locator(BOT).count()
    await page.get_by_test_id("chat-input").fill("show my cart")
    await page.get_by_test_id("chat-input").press("Enter")
    await expect(page.locator(".sa-pending-note")).to_be_visible()
    await page.context.set_offline(False)
    await wait_for_reply(page, before)
    await expect(page.locator(".sa-pending-note")).to_have_count(0)
    await expect(page.locator(BOT).last).to_contain_text("Your cart is empty")

    # The stream reconnects by itself and catches up: still every message exactly once.
    await expect(panel).to_have_attribute("data-stream", "open")
    assert len(streams) >= 2
    texts = await page.locator('[data-testid="chat-message"] .sa-text').all_inner_texts()
    await page.wait_for_timeout(1000)
    assert await page.locator('[data-testid="chat-message"] .sa-text').all_inner_texts() == texts
    assert sum("show my cart" in text for text in texts) == 1
    await page.reload()
    await open_chat(page)
    await expect(page.locator(USER)).to_have_count(2)


async def test_an_answer_lost_on_the_way_back_is_not_handled_twice(new_page: PageFactory, web_url: str) -> None:
    """The server takes "add the first one to my cart" and answers, but the connection drops before the
    answer reaches the page: the widget retries with the same message id, and the server answers it from
    the conversation instead of adding the product a second time."""
    page = await new_page("lost-answer")
    await page.goto(web_url + "/")
    await open_chat(page)
    await ask(page, "hiking boots under 150")
    await expect(page.get_by_test_id("product-card").first).to_be_visible()

    sent: list[dict[str, Any]] = []
    lost: list[int] = []

    async def lose_the_first_answer(route: Route) -> None:
        sent.append(route.request.post_data_json)
        if not lost:
            lost.append((await route.fetch()).status)  # the server took the message and answered
            await route.abort("connectionreset")  # ...but the answer never reaches the page
        else:
            await route.continue_()

    await page.route(re.compile(r"/api/chat$"), lose_the_first_answer)
    before = await page.locator(BOT).count()
    await page.get_by_test_id("chat-input").fill("add the first one to my cart")
    await page.get_by_test_id("chat-input").press("Enter")
    await wait_for_reply(page, before)
    await expect(page.locator(BOT).filter(has_text="Added 1 x")).to_have_count(1)
    assert lost == [200] and len(sent) >= 2
    assert sent[0]["message_id"] == sent[1]["message_id"] and sent[0]["message"] == sent[1]["message"]

    await page.unroute(re.compile(r"/api/chat$"))
    await page.reload()
    await open_chat(page)
    await expect(page.locator(USER).filter(has_text="add the first one to my cart")).to_have_count(1)
    await expect(page.locator(BOT).filter(has_text="Added 1 x")).to_have_count(1)
    assert not new_page.errors


async def test_phone_width(new_page: PageFactory, web_url: str, screenshot: Any) -> None:
    page = await new_page("phone", viewport=PHONE, is_mobile=True, has_touch=True)
    await page.goto(web_url + "/?login=demo")
    await screenshot(page, "closed")
    await open_chat(page)
    await ask(page, "red running shoes")
    await expect(page.get_by_test_id("product-card").first).to_be_visible()
    panel = await page.get_by_test_id("chat-panel").bounding_box()
    assert panel is not None and panel["x"] >= 0 and panel["x"] + panel["width"] <= PHONE["width"]
    assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    await expect(page.get_by_test_id("chat-send")).to_be_in_viewport()

    before = await page.locator(BOT).count()
    await page.get_by_test_id("more-like-this").first.tap()
    await wait_for_reply(page, before)
    await expect(page.locator(BOT).filter(has_text="products like the")).to_have_count(1)
