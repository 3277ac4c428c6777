"""Product search in conversation: search, refine ("cheaper", "in blue"), page on, open one.

The current search lives in slots (``search_query``, the constraint slots, ``search_page``,
``last_results``), so "show more" and "the second one" work on what the shopper last saw.
When nothing matches, the least important constraint is relaxed and the reply says which.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.base import ShopAction
from actions.constraints import Constraints, relaxations
from actions.context import searcher
from actions.replies import product_details_text, product_list_text, products_payload
from actions.resolve import resolve_product
from actions.shopper import record_event
from catalog_index.search import CatalogSearcher, SearchResult

PAGE_SIZE = 5
TIP = "Say \"show more\", \"cheaper\", a colour, or \"tell me about the second one\"."


def show_page(dispatcher: CollectingDispatcher, constraints: Constraints, result: SearchResult, page: int, intro: str) -> list[dict[str, Any]]:
    """Utter one page of results (text list + products payload); the slot events that remember it."""
    products = [hit.product for hit in result.hits]
    shown_before = page * PAGE_SIZE
    more = result.total_matching > shown_before + len(products)
    outro = TIP if more else "That's all I have for this search."
    dispatcher.utter_message(
        text=product_list_text(intro, products) + "\n" + outro,
        json_message=products_payload(
            products, query=constraints.query, page=page, total_matching=result.total_matching,
            filters=result.applied_filters,
        ),
    )
    return [SlotSet("search_page", float(page)), SlotSet("last_results", [p["id"] for p in products])]


def _wanted(constraints: Constraints) -> str:
    described = constraints.describe()
    return f"\"{constraints.query}\"" + (f" ({described})" if described else "")


class ActionSearchProducts(ShopAction):
    action_name = "action_search_products"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict[str, Any]]:
        index = searcher()
        intent = ((tracker.latest_message or {}).get("intent") or {}).get("name")
        previous = Constraints.from_slots(tracker)
        if intent == "refine_search" and previous.query:
            constraints = previous.refined(tracker, self._shown_prices(index, tracker), index.vocabulary)
        else:
            constraints = Constraints.from_message(tracker, index.vocabulary)
        record_event(tracker, "search", query=str((tracker.latest_message or {}).get("text") or "")[:500])
        result = constraints.run(index, k=PAGE_SIZE)
        relaxed: list[str] = []
        for looser, change in relaxations(constraints):
            if result.hits:
                break
            constraints, result = looser, looser.run(index, k=PAGE_SIZE)
            relaxed.append(change)
        if not result.hits:
            dispatcher.utter_message(
                text=f"Sorry, I couldn't find anything for {_wanted(constraints)}. Could you describe it in other words?"
            )
            return [*constraints.slot_events(), SlotSet("search_page", 0.0), SlotSet("last_results", [])]
        if relaxed:
            intro = f"I found nothing that matched everything, so I {' and '.join(relaxed)}. Here's what I found for {_wanted(constraints)}:"
        else:
            intro = f"Here's what I found for {_wanted(constraints)}:"
        return [*constraints.slot_events(), *show_page(dispatcher, constraints, result, 0, intro)]

    @staticmethod
    def _shown_prices(index: CatalogSearcher, tracker: Tracker) -> list[float]:
        products = (index.get(str(pid)) for pid in tracker.get_slot("last_results") or [])
        return [float(p["price"]) for p in products if p is not None and p.get("price") is not None]


class ActionShowMore(ShopAction):
    action_name = "action_show_more"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict[str, Any]]:
        constraints = Constraints.from_slots(tracker)
        if not constraints.query:
            dispatcher.utter_message(text="There's no search to continue yet. What are you looking for?")
            return []
        page = int(tracker.get_slot("search_page") or 0) + 1
        result = constraints.run(searcher(), k=PAGE_SIZE, offset=page * PAGE_SIZE)
        if not result.hits:
            dispatcher.utter_message(
                text=f"That's everything I have for {_wanted(constraints)}. Want to try other words, or change a filter?"
            )
            return []
        return show_page(dispatcher, constraints, result, page, f"More for {_wanted(constraints)}:")


class ActionProductDetails(ShopAction):
    action_name = "action_product_details"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict[str, Any]]:
        product = resolve_product(tracker, searcher())
        if product is None:
            dispatcher.utter_message(text="Which product do you mean? Say \"the second one\" or the product's name.")
            return []
        record_event(tracker, "view", product_id=product["id"])
        dispatcher.utter_message(
            text=product_details_text(product),
            json_message=products_payload([product], detail={k: product.get(k) for k in ("description", "sizes", "stock", "brand", "color")}),
        )
        return [SlotSet("selected_product", product["id"])]
