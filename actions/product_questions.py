"""Questions about a product: "is it waterproof", "what sizes", "how much is the second".

The product is the one the message points at ("the second", "the blue one") or else the
product in focus (with neither a focus nor a list shown, the "question" is a product need
and is searched); the answer comes from its own fields (:mod:`actions.answers`) and the
product becomes the focus, so the next "it" means it too.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.answers import Answer, answer_question
from actions.base import ShopAction
from actions.context import searcher, unit_of_work
from actions.resolve import resolve_product
from actions.search import search_message
from catalog_index.schema import Product
from catalog_index.search import CatalogSearcher


def encoder(index: CatalogSearcher) -> Any:
    """The sentence encoder the catalog index already holds (the same MiniLM model, loaded once)."""

    def encode(texts: Sequence[str]) -> np.ndarray:
        return index.embed(list(texts))

    return encode


def answer_about(index: CatalogSearcher, product: Product, question: str) -> Answer:
    """The catalog's answer to ``question`` about ``product``."""
    return answer_question(product, question, encoder(index))


class ActionProductQuestion(ShopAction):
    action_name = "action_product_question"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict[str, Any]]:
        index = searcher()
        shown = tracker.get_slot("last_results") or []
        if not shown and not tracker.get_slot("selected_product"):
            with unit_of_work() as uow:  # "something with a good camera": nothing to ask about yet
                return search_message(dispatcher, tracker, uow, index)
        product = resolve_product(tracker, index, search_catalog=False)
        if product is None:
            dispatcher.utter_message(text="Which product do you mean? Say \"the second one\" or the product's name.")
            return []
        question = str((tracker.latest_message or {}).get("text") or "")
        dispatcher.utter_message(text=answer_about(index, product, question).text)
        return [SlotSet("selected_product", product["id"])]
