"""The one-tag embedding on a storefront of another origin, in a real Chromium.

A second web app (same Rasa and action server as the shared stack) lists the storefront's
origin in ``SHOP_ALLOWED_ORIGINS``.  The storefront is a tiny real server on another loopback
port (Chromium refuses loopback requests from pages that did not come from loopback): a
cross-origin but same-site page, like the recommended "assistant on a subdomain" setup.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import pytest
from aiohttp import web
from playwright.async_api import Page, expect

from assistant.launcher import Ports, free_port, running_stack
from tests.browser.conftest import PageFactory
from tests.browser.widget_page import BOT, USER, ask, open_chat, wait_for_reply
from tests.conftest import MODEL_PATH


@pytest.fixture(scope="module")
def storefront_elsewhere(stack: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """(storefront origin, assistant URL): a web app that lets that storefront embed the widget."""
    store = f"http://127.0.0.1:{free_port()}"
    settings = dataclasses.replace(stack["settings"], allowed_origins=(store,))
    ports = Ports(stack["ports"].action_server, stack["ports"].rasa, free_port())
    with running_stack(settings, MODEL_PATH, ports, log_dir=tmp_path_factory.mktemp("embedded"), only=("web app",)):
        yield store, f"http://127.0.0.1:{ports.web}"


async def test_one_script_tag_on_another_origin_keeps_the_conversation_across_pages(
    new_page: PageFactory, storefront_elsewhere: tuple[str, str], catalog: dict[str, dict[str, Any]]
) -> None:
    store, assistant = storefront_elsewhere

    async def store_page(request: web.Request) -> web.Response:
        body = (
            f'<!doctype html><html lang="en"><title>Shoe Shop</title><body><h1>Shoe Shop: {request.path}</h1>'
            f'<script src="{assistant}/static/widget.js" async></script></body></html>'
        )
        return web.Response(text=body, content_type="text/html")

    app = web.Application()
    app.router.add_get("/{page}", store_page)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", int(store.rsplit(":", 1)[1])).start()
    try:
        await shop_with_the_widget(await new_page("storefront"), store, catalog)
        assert not new_page.errors
    finally:
        await runner.cleanup()


async def shop_with_the_widget(page: Page, store: str, catalog: dict[str, dict[str, Any]]) -> None:
    """Search, add the first card to the cart, go to another page, find the conversation there."""
    await page.goto(store + "/shoes")
    await open_chat(page)
    await ask(page, "red running shoes")
    card = page.get_by_test_id("product-card").filter(has=page.locator('[data-testid="add-to-cart"]:enabled')).first
    chosen = catalog[await card.get_attribute("data-product-id")]["title"]
    before = await page.locator(BOT).count()
    await card.get_by_test_id("add-to-cart").click()
    await wait_for_reply(page, before)
    # The card's position was resolved against this conversation's last results: the session held.
    await expect(page.locator(BOT).filter(has_text=f"Added 1 x {chosen}")).to_have_count(1)

    await page.goto(store + "/cart")
    await open_chat(page)
    await expect(page.locator(USER)).to_have_count(2)
    await expect(page.locator(USER).first).to_contain_text("red running shoes")
    await expect(page.locator(BOT).filter(has_text=f"Added 1 x {chosen}")).to_have_count(1)
