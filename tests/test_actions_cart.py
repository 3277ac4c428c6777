"""Cart actions: add by position with a quantity, view with total, remove; owners kept apart."""

from __future__ import annotations

from actions.cart import ActionAddToCart, ActionRemoveFromCart, ActionViewCart
from assistant.settings import Settings
from tests.actions_harness import action_store, payloads, run, slots, texts, tracker  # noqa: F401

MUG = {"product_id": "T007", "title": "Insulated Camping Mug", "unit_price": 19.99, "currency": "USD", "image_url": None,
       "variant_id": None}


async def test_add_view_remove_for_an_anonymous_shopper(action_store: Settings) -> None:
    events, messages = await run(ActionAddToCart(), tracker("cart"))
    assert events == [{"event": "slot", "timestamp": None, "name": "selected_product", "value": "T007"}]
    assert payloads(messages, "cart") == [
        {"type": "cart", "items": [{**MUG, "quantity": 2, "line_total": 39.98}], "total": 39.98, "currency": "USD",
         "checkout_url": None}
    ]
    assert texts(messages) == "Added 2 x Insulated Camping Mug.\nYour cart:\n1. 2 x Insulated Camping Mug, $39.98\nTotal: $39.98"

    await run(ActionAddToCart(), tracker("cart", text="add the stove", entities=[]))
    _, messages = await run(ActionViewCart(), tracker("cart", text="show my cart", intent="view_cart", entities=[]))
    [cart] = payloads(messages, "cart")
    assert [(item["product_id"], item["quantity"]) for item in cart["items"]] == [("T007", 2), ("T008", 1)]
    assert cart["total"] == 84.48

    _, messages = await run(ActionRemoveFromCart(), tracker("cart", text="remove one mug", intent="remove_from_cart",
                                                             entities=[{"entity": "quantity", "value": "1"}]))
    assert texts(messages).startswith("Removed 1 x Insulated Camping Mug.")
    assert [(i["product_id"], i["quantity"]) for i in payloads(messages, "cart")[0]["items"]] == [("T007", 1), ("T008", 1)]


async def test_a_signed_in_cart_is_not_the_conversations_cart(action_store: Settings) -> None:
    await run(ActionAddToCart(), tracker("cart", "dave", action_store, sender_id="daves-browser"))
    view = {"text": "cart", "intent": "view_cart", "entities": [], "sender_id": "daves-browser"}
    _, anonymous = await run(ActionViewCart(), tracker("cart", **view))
    _, dave = await run(ActionViewCart(), tracker("cart", "dave", action_store, **view))
    assert payloads(anonymous, "cart") == [{"type": "cart", "items": [], "total": 0, "currency": "USD",
                                            "checkout_url": None}]
    assert texts(anonymous) == "Your cart is empty."
    assert [(i["product_id"], i["quantity"]) for i in payloads(dave, "cart")[0]["items"]] == [("T007", 2)]


async def test_out_of_stock_and_unclear_products_are_not_added(action_store: Settings) -> None:
    events, messages = await run(ActionAddToCart(), tracker("cart", slots={"last_results": ["K004"]}, entities=[], text="add it"))
    assert texts(messages) == "Sorry, Pour-Over Coffee Maker is out of stock right now, so I can't add it."
    assert not payloads(messages, "cart")
    events, messages = await run(ActionAddToCart(), tracker("cart", entities=[{"entity": "ordinal", "value": "ninth"}]))
    assert events == [] and texts(messages).startswith("Which product should I add?")
