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
from actions.constraints import Constraints, relaxations, with_slot_filters
from actions.context import searcher, unit_of_work, verified_customer
from actions.promotions import offers_line
from actions.replies import product_details_text, product_list_text, products_payload
from actions.resolve import resolve_product
from actions.shopper import record_event
from actions.topic import Topic, names_no_product
from assistant.observe.metrics import SEARCH_REQUESTS, SEARCH_ZERO_RESULTS
from assistant.recommend.rerank import customer_affinities, rerank
from assistant.store.db import UnitOfWork
from catalog_index.request import SearchRequest
from catalog_index.search import CatalogSearcher, SearchResult

PAGE_SIZE = 5
TIP = "Say \"show more\", \"cheaper\", a colour, or \"tell me about the second one\"."


def show_page(
    dispatcher: CollectingDispatcher, tracker: Tracker, uow: UnitOfWork, constraints: Constraints, result: SearchResult,
    page: int, intro: str,
) -> list[dict[str, Any]]:
    """Utter one page of results (text list + products payload), then any store offer on a
    shown product as its own line (prices stay the catalog's); the slot events that remember it."""
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
    offers = offers_line(uow, tracker, products)
    if offers:
        dispatcher.utter_message(text=offers)
    return [SlotSet("search_page", float(page)), SlotSet("last_results", [p["id"] for p in products])]


def personalized(uow: UnitOfWork, tracker: Tracker, index: CatalogSearcher, result: SearchResult) -> SearchResult:
    """The page re-ranked by the consenting customer's affinities (unchanged for anyone else)."""
    customer_id = verified_customer(tracker)
    if customer_id is not None and result.hits:
        result.hits = rerank(result.hits, customer_affinities(uow, customer_id, index.get), result.text)
    return result


def _wanted(constraints: Constraints, topic: Topic | None = None) -> str:
    described = constraints.describe()
    wanted = topic.describe() if topic is not None and topic.interest else f"\"{constraints.query or 'anything'}\""
    return wanted + (f" ({described})" if described else "")


def find_and_show(
    dispatcher: CollectingDispatcher, tracker: Tracker, uow: UnitOfWork, index: CatalogSearcher, constraints: Constraints,
    topic: Topic | None = None, relax: bool = True,
) -> list[dict[str, Any]]:
    """Run a search (relaxing it when nothing matches), show its first page; the slot events of the new state."""
    topic = topic or Topic()
    result = index.run(constraints.request.page(PAGE_SIZE))
    relaxed: list[str] = []
    for looser, change in relaxations(constraints) if relax else []:
        if result.hits:
            break
        constraints, result = looser, index.run(looser.request.page(PAGE_SIZE))
        relaxed.append(change)
    state = [*constraints.slot_events(), SlotSet("recipient", topic.recipient), SlotSet("interest", topic.interest)]
    SEARCH_REQUESTS.inc()
    if not result.hits:
        SEARCH_ZERO_RESULTS.inc()
        dispatcher.utter_message(
            text=f"Sorry, I couldn't find anything for {_wanted(constraints, topic)}. Could you describe it in other words?"
        )
        return [*state, SlotSet("search_page", 0.0), SlotSet("last_results", [])]
    if relaxed:
        intro = (f"I found nothing that matched everything, so I {' and '.join(relaxed)}. "
                 f"Here's what I found for {_wanted(constraints, topic)}:")
    else:
        intro = f"Here's what I found for {_wanted(constraints, topic)}:"
    return [*state, *show_page(dispatcher, tracker, uow, constraints, personalized(uow, tracker, index, result), 0, intro)]


def message_request(tracker: Tracker, index: CatalogSearcher) -> SearchRequest:
    """The search the latest message's words make: parsed once a turn, then passed on, never parsed again."""
    return SearchRequest.parse(str((tracker.latest_message or {}).get("text") or ""), index.vocabulary)


def constraints_for(
    tracker: Tracker, index: CatalogSearcher, shown_prices: list[float], said: SearchRequest | None = None
) -> tuple[Constraints, Topic, bool]:
    """The search this message asks for, its topic, and whether it continues the current one.

    A message naming someone's interest is a new topic searched by that interest; a
    refinement, or a message that names no product of its own ("something under $40"),
    continues the current topic; anything else is a fresh search from its own words.
    ``said`` is the message's :func:`message_request` when the caller has it already; a continued
    search reads its own words back from the slots (one parse of those).
    """
    text = str((tracker.latest_message or {}).get("text") or "")
    intent = ((tracker.latest_message or {}).get("intent") or {}).get("name")
    vocabulary = index.vocabulary
    said, topic = said or message_request(tracker, index), Topic.from_text(text)
    if topic.interest:
        return Constraints.fresh(said, tracker, vocabulary).about(topic.search_text(), vocabulary), topic, False
    current = tracker.get_slot("search_query") is not None
    if current and (intent == "refine_search" or names_no_product(said)):
        previous = Constraints.from_slots(tracker, vocabulary)
        return previous.refined(said, tracker, shown_prices).without_false_colour(tracker), Topic.from_slots(tracker).merged(topic), True
    if names_no_product(said):  # "anything under $20": browse by filters, never search the word "anything"
        said = with_slot_filters(SearchRequest(), said.filters)  # no words: only what the slots keep of it
    return Constraints.fresh(said, tracker, vocabulary), topic, False


class ActionSearchProducts(ShopAction):
    action_name = "action_search_products"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict[str, Any]]:
        index = searcher()
        with unit_of_work() as uow:
            record_event(uow, tracker, "search", query=str((tracker.latest_message or {}).get("text") or "")[:500])
            return search_message(dispatcher, tracker, uow, index)


def search_message(
    dispatcher: CollectingDispatcher, tracker: Tracker, uow: UnitOfWork, index: CatalogSearcher, said: SearchRequest | None = None
) -> list[dict[str, Any]]:
    """Search what the latest message asks for (:func:`constraints_for`); a new subject clears the focus."""
    constraints, topic, continued = constraints_for(tracker, index, shown_prices(index, tracker), said)
    events = find_and_show(dispatcher, tracker, uow, index, constraints, topic)
    return events if continued else [SlotSet("selected_product", None), *events]


def shown_prices(index: CatalogSearcher, tracker: Tracker) -> list[float]:
    """Prices of the products last shown (what "cheaper" is measured against)."""
    products = (index.get(str(pid)) for pid in tracker.get_slot("last_results") or [])
    return [float(price) for p in products if p is not None and (price := p.get("price")) is not None]


class ActionShowMore(ShopAction):
    action_name = "action_show_more"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict[str, Any]]:
        if tracker.get_slot("search_query") is None:
            dispatcher.utter_message(text="There's no search to continue yet. What are you looking for?")
            return []
        page = int(tracker.get_slot("search_page") or 0) + 1
        index = searcher()
        constraints = Constraints.from_slots(tracker, index.vocabulary)
        result = index.run(constraints.request.page(PAGE_SIZE, offset=page * PAGE_SIZE))
        if not result.hits:
            dispatcher.utter_message(
                text=f"That's everything I have for {_wanted(constraints, Topic.from_slots(tracker))}. "
                     "Want to try other words, or change a filter?"
            )
            return []
        topic = Topic.from_slots(tracker)
        with unit_of_work() as uow:
            return show_page(dispatcher, tracker, uow, constraints, personalized(uow, tracker, index, result), page,
                             f"More for {_wanted(constraints, topic)}:")


class ActionProductDetails(ShopAction):
    action_name = "action_product_details"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict[str, Any]]:
        product = resolve_product(tracker, searcher())
        if product is None:
            dispatcher.utter_message(text="Which product do you mean? Say \"the second one\" or the product's name.")
            return []
        with unit_of_work() as uow:
            record_event(uow, tracker, "view", product_id=product["id"])
        dispatcher.utter_message(
            text=product_details_text(product),
            json_message=products_payload(
                [product], detail={k: product.get(k) for k in ("description", "sizes", "stock", "brand", "color")}
            ),
        )
        return [SlotSet("selected_product", product["id"])]
