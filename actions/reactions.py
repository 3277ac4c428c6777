"""Reactions and price reactions: the shopper reacts to what they see, the topic stays.

"i see", "hmm looks much better", "really?" ask for nothing: they get a short fitting
acknowledgement and the next step that makes sense now (never a goodbye, a new search or
a person). "too expensive" searches the same topic below what was shown; "budget is not a
problem" lifts the price cap and searches the topic again.
"""

from __future__ import annotations

import re
import statistics
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.base import ShopAction
from actions.constraints import Constraints
from actions.context import searcher, unit_of_work
from actions.resolve import focus_product
from actions.search import find_and_show, shown_prices
from actions.topic import Topic
from catalog_index.schema import Product

PLEASED = re.compile(r"\b(better|nice|great|good|love|like|perfect|cool|wow|lovely|neat|sweet|not bad)\b", re.I)
DOUBTING = re.compile(r"\b(really|is that so|huh|seriously|sure)\b|\?", re.I)
THINKING = re.compile(r"\b(think|sec|second|moment|not sure|maybe|perhaps|let me)\b", re.I)


def acknowledgement(text: str) -> str:
    """A short reply that fits the reaction."""
    if THINKING.search(text):
        return "Take your time."
    if PLEASED.search(text):
        return "Glad you like it!"
    if DOUBTING.search(text):
        return "Yes, that's what our catalog says."
    return "Got it."


def next_step(product: Product | None, shown: int) -> tuple[str, list[dict[str, str]]]:
    """What the shopper can do now, as a sentence and quick-reply buttons."""
    if product is not None:
        return (f"Would you like to add the {product['title']} to your cart, or compare it with the others?",
                [{"title": "Add it to my cart", "payload": "/add_to_cart"},
                 {"title": "Compare them", "payload": "/compare_products"}])
    if shown >= 2:
        return ("Say \"tell me about the second one\", \"compare the first two\" or \"cheaper\".",
                [{"title": "Compare the first two", "payload": "compare the first two"}, {"title": "Show more", "payload": "/show_more"}])
    if shown == 1:
        return "Want more details on it, or should I add it to your cart?", [{"title": "Add it to my cart", "payload": "/add_to_cart"}]
    return "What can I help you find?", []


class ActionAcknowledge(ShopAction):
    action_name = "action_acknowledge"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict[str, Any]]:
        text = str((tracker.latest_message or {}).get("text") or "")
        step, buttons = next_step(focus_product(tracker, searcher()), len(tracker.get_slot("last_results") or []))
        dispatcher.utter_message(text=f"{acknowledgement(text)} {step}", buttons=buttons)
        return []


def cheaper_cap(constraints: Constraints, prices: list[float], focus_price: float | None) -> float | None:
    """Below what was shown (its median, or the focused product's price when lower), under any cap already set."""
    candidates = [round(statistics.median(prices) - 0.01, 2)] if prices else []
    if focus_price is not None:
        candidates.append(round(focus_price - 0.01, 2))
    price_max = constraints.request.filters.price_max
    if price_max is not None:
        candidates.append(round(price_max - 0.01, 2))
    return min(candidates) if candidates else None


class ActionPriceReaction(ShopAction):
    action_name = "action_price_reaction"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict[str, Any]]:
        index = searcher()
        intent = ((tracker.latest_message or {}).get("intent") or {}).get("name")
        constraints, topic = Constraints.from_slots(tracker, index.vocabulary), Topic.from_slots(tracker)
        has_topic = tracker.get_slot("search_query") is not None
        if intent == "no_budget_limit":
            if not has_topic:
                dispatcher.utter_message(text="No budget limit, noted. What are you looking for?")
                return [SlotSet("price_min", None), SlotSet("price_max", None)]
            # the words lose their price too ("smartphones under $900" -> "smartphones"), so nothing reads as capped
            unlimited = constraints.about(constraints.request.text, index.vocabulary).with_filters(price_min=None, price_max=None)
            with unit_of_work() as uow:
                return find_and_show(dispatcher, tracker, uow, index, unlimited, topic)
        focus = focus_product(tracker, index)
        cap = cheaper_cap(constraints, shown_prices(index, tracker), focus.get("price") if focus else None)
        if not has_topic or cap is None:
            dispatcher.utter_message(text="What's your budget? For example \"under $50\", and what should I look for?")
            return []
        cheaper = constraints.with_filters(price_max=cap, price_min=None)
        if not index.run(cheaper.request.page(1)).hits:
            dispatcher.utter_message(text=f"Sorry, what I showed is already the cheapest I have for this search "
                                     f"(nothing under ${cap + 0.01:,.2f}). Want to try something else?")
            return []
        with unit_of_work() as uow:
            return find_and_show(dispatcher, tracker, uow, index, cheaper, topic, relax=False)
