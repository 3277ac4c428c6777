"""The abandoned-cart reminder, run when the nudge job injects ``cart_reminder``.

The intent arrives without a customer token (Rasa's trigger_intent carries none), so the
customer is the one whose latest verified conversation this is (recorded by
:func:`actions.shopper.remember_customer`); the reminder goes out only with their marketing
consent and a non-empty cart. Because a shopper can also type ``/cart_reminder``, the
action never reveals anything but that same customer's own cart in their own conversation.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.base import ShopAction
from actions.cart import show_cart
from actions.context import unit_of_work
from actions.recommend import recommender
from actions.replies import product_list_text, products_payload
from assistant.recommend import Recommendation, Request
from assistant.store.db import UnitOfWork


def related_suggestion(uow: UnitOfWork, customer_id: str, cart_ids: list[str]) -> Recommendation | None:
    """One product that goes with the cart, with its reason: the one place the reminder asks
    the recommender (:mod:`assistant.recommend`, which applies the consent contract itself:
    the cart always counts, the customer's history only after their yes)."""
    items, _ = recommender().recommend(uow, customer_id, Request(k=len(cart_ids) + 3))
    return next((item for item in items if item.product["id"] not in cart_ids), None)


class ActionCartReminder(ShopAction):
    action_name = "action_cart_reminder"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict[str, Any]]:
        with unit_of_work() as uow:
            customer = uow.customers.by_sender(tracker.sender_id)
            if customer is None or not customer.marketing_consent:
                return []
            cart = uow.carts.get(customer_id=customer.id)
            lines = uow.carts.lines(cart) if cart is not None else []
            if not lines:
                return []
            show_cart(dispatcher, uow, cart, intro="You left something in your cart. It's saved for you:")
            suggestion = related_suggestion(uow, customer.id, [line.product_id for line in lines])
        if suggestion is None:
            return []
        product = suggestion.product
        dispatcher.utter_message(
            text=product_list_text("You might also like:", [product], [suggestion.reason]),
            json_message=products_payload([product], [suggestion.reason], source="cart_reminder"),
        )
        return [SlotSet("last_results", [product["id"]])]
