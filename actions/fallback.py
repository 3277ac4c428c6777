"""A fallback that recovers before it says "didn't get that".

When NLU is unsure, the message is still often clear against what the catalog and the
conversation know: "I need something with a good camera" names products (search them),
"what about the battery" makes sense against the product in focus (answer it). Only then
does the bot admit it did not understand, offering the two or three intents NLU found
most likely as buttons ("Did you mean ...?"); :mod:`actions.handoff` offers a person only
after repeated misunderstanding.
"""

from __future__ import annotations

import re
import threading
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.answers import STOP
from actions.context import searcher, unit_of_work
from actions.product_questions import answer_about
from actions.resolve import focus_product
from actions.search import message_request, search_message
from actions.topic import FILLER
from catalog_index.request import SearchRequest
from catalog_index.search import CatalogSearcher

OFFERED = 3
LIKELY = 0.05
TITLES = {
    "recommend": "Suggest something", "order_status": "Where is my order?", "view_cart": "Show my cart",
    "returns_and_refunds": "Returns and refunds", "shipping_info": "Shipping", "payment_problem": "A payment problem",
    "cancel_order": "Cancel an order", "ask_promotions": "Current offers", "ask_brands": "Which brands?",
    "compare_products": "Compare the products", "too_expensive": "Something cheaper", "show_more": "Show more",
    "view_privacy": "What you know about me", "privacy_summary": "What you know about me", "help": "What can you do?",
    "talk_to_human": "Talk to a person",
}
WORD = re.compile(r"[a-z]+")
_lock = threading.Lock()
_words: dict[int, frozenset[str]] = {}


def catalog_words(index: CatalogSearcher) -> frozenset[str]:
    """Words of the catalog's titles, kinds and tags (built once per loaded index version)."""
    key = id(index.vocabulary)
    with _lock:
        if key not in _words:
            words: set[str] = set()
            for pid in index.product_ids:
                product = index.get(pid)
                if product is None:
                    continue
                text = " ".join(str(product.get(k) or "") for k in ("title", "category", "subcategory"))
                words.update(WORD.findall((text + " " + " ".join(product.get("tags") or [])).lower()))
            _words.clear()
            _words[key] = frozenset(words - STOP - FILLER)
        return _words[key]


def product_words(said: SearchRequest, index: CatalogSearcher) -> list[str]:
    """The words of a message (parsed) that name things the catalog sells ("camera", "yoga", "boots")."""
    known = catalog_words(index)
    words = [w for w in WORD.findall(said.text.lower()) if len(w) > 2 and w not in STOP and w not in FILLER]
    found = [w for w in words if w in known or w.rstrip("s") in known or w + "s" in known]
    category = said.filters.category
    return ([category.lower()] if category else []) + [b.lower() for b in said.filters.brands] + found


def recover(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[dict[str, Any]] | None:
    """Answer an unsure message from the catalog or the focus; ``None`` when neither makes sense of it."""
    index = searcher()
    text = str((tracker.latest_message or {}).get("text") or "")
    said = message_request(tracker, index)
    if product_words(said, index):
        with unit_of_work() as uow:
            return search_message(dispatcher, tracker, uow, index, said)
    focus = focus_product(tracker, index)
    if focus is not None and text.strip():
        answer = answer_about(index, focus, text)
        if answer.answered:
            dispatcher.utter_message(text=answer.text)
            return [SlotSet("selected_product", focus["id"])]
    return None


def likely_intents(tracker: Tracker) -> list[str]:
    """The intents NLU ranked highest for this message that a button can stand for."""
    ranking = (tracker.latest_message or {}).get("intent_ranking") or []
    names = [r.get("name") for r in ranking if r.get("name") in TITLES and (r.get("confidence") or 0) >= LIKELY]
    return names[:OFFERED]


def offer_likely_intents(dispatcher: CollectingDispatcher, tracker: Tracker) -> None:
    """"Did you mean ...?" with the likely intents as buttons, or a plain request to rephrase."""
    names = likely_intents(tracker)
    if names:
        dispatcher.utter_message(
            text="Sorry, I'm not sure what you mean. Did you mean one of these? Or say it another way.",
            buttons=[{"title": TITLES[name], "payload": f"/{name}"} for name in names],
        )
        return
    dispatcher.utter_message(
        text="Sorry, I didn't quite get that. Could you say it another way? For example \"red sneakers under $80\", "
        "\"where is my order\" or \"show my cart\". Type \"help\" to see everything I can do."
    )
