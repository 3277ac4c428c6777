"""Checkout from chat: the cart link template, and the cart action offering it with the store told."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from actions.cart import ActionAddToCart, ActionViewCart
from actions.context import unit_of_work, use_settings
from assistant.backend.checkout import CheckoutLine, cart_link, check_template
from assistant.settings import Settings
from assistant.store.models import BackendOutboxRow, Product
from tests.actions_harness import action_store, payloads, run, texts, tracker  # noqa: F401

LINES = [CheckoutLine("P1", "4001", 2), CheckoutLine("P 2", None, 1)]


@pytest.mark.parametrize(("template", "lines", "link"), [
    ("https://shop.example/cart/{items}", LINES, "https://shop.example/cart/4001:2,P%202:1"),
    ("https://shop.example/cart/{items|{variant}:{qty}|,}?ref=chat", LINES, "https://shop.example/cart/4001:2,P%202:1?ref=chat"),
    ("https://shop.example/?{items|add[{product}]={qty}|&}", LINES, "https://shop.example/?add[P1]=2&add[P%202]=1"),
    ("https://shop.example/?add-to-cart={variant}&quantity={qty}", LINES[:1], "https://shop.example/?add-to-cart=4001&quantity=2"),
    ("https://shop.example/?add-to-cart={variant}&quantity={qty}", LINES, None),  # one product per link only
    ("https://shop.example/cart/{items}", [], None),
    ("", LINES, None),
])
def test_cart_links(template: str, lines: list[CheckoutLine], link: str | None) -> None:
    assert cart_link(template, lines) == link


def test_ids_cannot_change_the_links_shape() -> None:
    assert cart_link("https://shop.example/cart/{items}", [CheckoutLine("x", "1/../../admin?x=1#", 1)]) == (
        "https://shop.example/cart/1%2F..%2F..%2Fadmin%3Fx%3D1%23:1")


@pytest.mark.parametrize(("template", "problem"), [
    ("javascript:alert(1)//{items}", "must be an http(s) URL"),
    ("https://shop.example/cart", "names no cart line"),
    ("https://shop.example/cart/{items}?s={session}", "unknown {placeholder}"),
])
def test_bad_templates_are_named(template: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem.replace("{", r"\{").replace("(", r"\(").replace(")", r"\)")):
        check_template(template)


@pytest.fixture
def shopify_store(action_store: Settings) -> Iterator[Settings]:  # noqa: F811
    """The action store with a Shopify-style cart link, a webhook backend, and variant ids on two products."""
    settings = dataclasses.replace(action_store, cart_link_template="https://shop.example/cart/{items}",
                                   backend_webhook_url="http://127.0.0.1:9/unused", webhook_secret="s")
    with unit_of_work() as uow:
        saved = {}
        for product_id, variant in (("T007", "40071"), ("T008", "40082")):
            product = uow.session.get(Product, product_id)
            saved[product_id] = dict(product.payload)
            product.payload = {**product.payload, "variant_id": variant}
        uow.commit()
    use_settings(settings)
    yield settings
    use_settings(action_store)
    with unit_of_work() as uow:
        for product_id, payload in saved.items():
            uow.session.get(Product, product_id).payload = payload
        uow.session.query(BackendOutboxRow).delete()
        uow.commit()


async def test_the_chat_cart_offers_checkout_with_its_variants_and_tells_the_store(shopify_store: Settings) -> None:
    sender = {"sender_id": "checkout-shopper"}
    await run(ActionAddToCart(), tracker("cart", **sender))  # 2 mugs
    await run(ActionAddToCart(), tracker("cart", text="add the stove", entities=[], **sender))
    _, messages = await run(ActionViewCart(), tracker("cart", text="show my cart", intent="view_cart", entities=[],
                                                      **sender))
    [cart] = payloads(messages, "cart")
    assert cart["checkout_url"] == "https://shop.example/cart/40071:2,40082:1"
    assert [(item["variant_id"], item["quantity"]) for item in cart["items"]] == [("40071", 2), ("40082", 1)]
    assert texts(messages).endswith("Check out on our store: https://shop.example/cart/40071:2,40082:1")
    with unit_of_work() as uow:
        changes = uow.session.scalars(select(BackendOutboxRow).where(BackendOutboxRow.kind == "cart_changed")
                                      .order_by(BackendOutboxRow.id)).all()
    assert [[(i["variant_id"], i["quantity"]) for i in change.payload["items"]] for change in changes] == [
        [("40071", 2)], [("40071", 2), ("40082", 1)]]
