"""The cart: add what the shopper points at, show it with its total, take things out.

The cart belongs to the verified customer, or else to this conversation (the Rasa
sender id, which the web gateway derives; clients never choose it).
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.base import ShopAction
from actions.context import searcher, settings, unit_of_work
from actions.replies import money, stock_known
from actions.resolve import WORD, content_words, mentioned_ordinal, resolve_product
from actions.shopper import cart_of, open_cart, record_in
from assistant.backend.checkout import CheckoutLine, cart_link
from assistant.backend.outbox import tell_store
from assistant.store.db import UnitOfWork
from assistant.store.models import Cart
from assistant.store.repositories import CartLine
from catalog_index.schema import in_stock

MAX_QUANTITY = 99


def quantity(tracker: Tracker) -> int | None:
    """The quantity entity as a whole number between 1 and 99, ``None`` when absent or odd."""
    for value in tracker.get_latest_entity_values("quantity"):
        text = str(value).strip()
        if text.isdigit() and 1 <= int(text) <= MAX_QUANTITY:
            return int(text)
    return None


def show_cart(dispatcher: CollectingDispatcher, uow: UnitOfWork, cart: Cart | None, intro: str = "") -> None:
    """The cart as a numbered list with its total, plus the ``cart`` json_message."""
    lines: list[CartLine] = uow.carts.lines(cart) if cart is not None else []
    total = round(sum(line.line_total or 0.0 for line in lines), 2)
    currency = next((line.currency for line in lines if line.currency), "USD")
    if lines:
        rows = [f"{n}. {line.quantity} x {line.title}, {money(line.line_total, line.currency)}" for n, line in enumerate(lines, 1)]
        text = "\n".join(filter(None, [intro, "Your cart:", *rows, f"Total: {money(total, currency)}"]))
    else:
        text = " ".join(filter(None, [intro, "Your cart is empty."]))
    items = [
        {"product_id": line.product_id, "title": line.title, "quantity": line.quantity, "unit_price": line.unit_price,
         "currency": line.currency, "image_url": line.image_url, "line_total": line.line_total,
         "variant_id": line.variant_id}
        for line in lines
    ]
    checkout = cart_link(settings().cart_link_template,
                         [CheckoutLine(line.product_id, line.variant_id, line.quantity) for line in lines])
    if checkout:
        text += f"\nCheck out on our store: {checkout}"
    dispatcher.utter_message(text=text, json_message={"type": "cart", "items": items, "total": total, "currency": currency,
                                                      "checkout_url": checkout})


def cart_changed(uow: UnitOfWork, cart: Cart) -> None:
    """Tell the store's backend the cart's new content (when one is configured), with the change."""
    lines = uow.carts.lines(cart)
    tell_store(uow, settings(), "cart_changed", {
        "customer_id": cart.customer_id, "session": cart.session_key,
        "items": [{"product_id": line.product_id, "variant_id": line.variant_id, "quantity": line.quantity}
                  for line in lines],
    })


class ActionAddToCart(ShopAction):
    action_name = "action_add_to_cart"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict[str, Any]]:
        product = resolve_product(tracker, searcher())
        if product is None:
            dispatcher.utter_message(text="Which product should I add? Say \"the first one\" or its name.")
            return []
        if stock_known(product) and not in_stock(product):
            dispatcher.utter_message(text=f"Sorry, {product['title']} is out of stock right now, so I can't add it.")
            return [SlotSet("selected_product", product["id"])]
        with unit_of_work() as uow:
            if uow.products.get(product["id"]) is None:
                dispatcher.utter_message(text=f"Sorry, {product['title']} can't be ordered online right now.")
                return [SlotSet("selected_product", product["id"])]
            cart = open_cart(uow, tracker)
            count = quantity(tracker) or 1
            uow.carts.add_item(cart, product["id"], count)
            record_in(uow, tracker, "add_to_cart", product_id=product["id"])
            cart_changed(uow, cart)
            uow.commit()
            show_cart(dispatcher, uow, cart, intro=f"Added {count} x {product['title']}.")
        return [SlotSet("selected_product", product["id"])]


class ActionViewCart(ShopAction):
    action_name = "action_view_cart"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict[str, Any]]:
        with unit_of_work() as uow:
            show_cart(dispatcher, uow, cart_of(uow, tracker))
        return []


def line_meant(tracker: Tracker, lines: list[CartLine]) -> CartLine | None:
    """The cart line named in the message, else by position, else the product last opened, else the only one."""
    words = set(content_words(str((tracker.latest_message or {}).get("text") or "")))
    scored = [(len(words & set(WORD.findall(line.title.lower()))), n, line) for n, line in enumerate(lines)]
    best = max(scored, default=None, key=lambda entry: (entry[0], -entry[1]))
    if best is not None and best[0] > 0:
        return best[2]
    position = mentioned_ordinal(tracker)
    if position is not None:
        return lines[position] if -len(lines) <= position < len(lines) else None
    selected = tracker.get_slot("selected_product")
    chosen = [line for line in lines if line.product_id == selected]
    if chosen:
        return chosen[0]
    return lines[0] if len(lines) == 1 else None


class ActionRemoveFromCart(ShopAction):
    action_name = "action_remove_from_cart"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict[str, Any]]:
        with unit_of_work() as uow:
            cart = cart_of(uow, tracker)
            lines = uow.carts.lines(cart) if cart is not None else []
            if cart is None or not lines:
                show_cart(dispatcher, uow, cart)
                return []
            line = line_meant(tracker, lines)
            if line is None:
                show_cart(dispatcher, uow, cart, intro="Which item should I take out? Say its name or its number.")
                return []
            left = uow.carts.remove_item(cart, line.product_id, quantity(tracker))
            record_in(uow, tracker, "remove_from_cart", product_id=line.product_id)
            cart_changed(uow, cart)
            uow.commit()
            done = f"Removed {line.quantity - left} x {line.title}." if left else f"Removed {line.title}."
            show_cart(dispatcher, uow, cart, intro=done)
        return []
