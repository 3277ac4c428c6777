"""Recommendations: personal for a verified customer who has not said no, popular otherwise.

"Something like this" with a product open gives products similar to it; "a gift under
$50" caps the price. Every suggestion comes with its one-line reason.
"""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.base import ShopAction
from actions.constraints import parse_amount
from actions.context import searcher, unit_of_work
from actions.replies import product_list_text, products_payload
from actions.shopper import known_customer
from assistant.recommend_basic import recommend, similar_to
from catalog_index.query import parse_query

COUNT = 5
LIKE_THIS = re.compile(r"\b(like (this|that|it)|similar)\b", re.I)


def price_cap(tracker: Tracker) -> float | None:
    """"under $50" from the price entity or, when NLU missed it, from the text."""
    for value in tracker.get_latest_entity_values("price_max"):
        if (amount := parse_amount(value)) is not None:
            return amount
    return parse_query(str((tracker.latest_message or {}).get("text") or "")).price_max


class ActionRecommend(ShopAction):
    action_name = "action_recommend"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict[str, Any]]:
        index = searcher()
        cap = price_cap(tracker)
        text = str((tracker.latest_message or {}).get("text") or "")
        selected = tracker.get_slot("selected_product")
        if selected and LIKE_THIS.search(text) and index.get(str(selected)) is not None:
            items = similar_to(index, str(selected), COUNT, cap)
            intro = "Here are some similar products:"
        else:
            with unit_of_work() as uow:
                customer_id = known_customer(uow, tracker)
                customer = uow.customers.get(customer_id) if customer_id else None
                personal = customer is not None and customer.personalization_consent is not False
                items = recommend(uow.session, index, customer_id if personal else None, k=COUNT, max_price=cap)
                uow.commit()
            personal = any(item.source != "popular" for item in items)
            intro = "Based on what you've bought and looked at, you might like:" if personal else "Some of our most popular products:"
        if not items:
            dispatcher.utter_message(text="I don't have a good suggestion right now. Tell me what you're looking for and I'll search for it.")
            return []
        products, reasons = [item.product for item in items], [item.reason for item in items]
        dispatcher.utter_message(
            text=product_list_text(intro, products, reasons),
            json_message=products_payload(products, reasons, source="recommend"),
        )
        return [SlotSet("last_results", [p["id"] for p in products])]
