"""Recommendations: personal for a verified customer who said yes, popular otherwise.

"Something like this" with a product open gives products similar to it; "a gift for my
dad under $50" caps the price and switches to gift ideas (popular, not the shopper's own
consumables, leaning to products for the recipient).  Every suggestion comes with its
one-line reason.  Consent is applied inside :mod:`assistant.recommend` (only an explicit
yes uses the shopper's history).
"""

from __future__ import annotations

import re
import threading
from pathlib import Path
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.base import ShopAction
from actions.constraints import parse_amount
from actions.context import searcher, settings, unit_of_work, verified_customer
from actions.privacy import offer_personalization
from actions.replies import product_list_text, products_payload
from actions.resolve import mentioned_ordinal
from actions.search import search_message
from actions.topic import Topic
from assistant.observe.metrics import RECOMMENDATIONS
from assistant.recommend import Recommendation, Recommender, Request, similar_to
from assistant.recommend.engine import ARTIFACTS_DIR
from assistant.recommend.rules import RECIPIENT_WORDS
from assistant.store.db import UnitOfWork
from catalog_index.query import parse_query

COUNT = 5
LIKE_THIS = re.compile(r"\b(like (this|that|it)|similar)\b", re.I)
GIFT = re.compile(r"\b(gifts?|presents?)\b", re.I)
UNPERSONAL = ("popular", "trending", "new_finds")
RECIPIENT = re.compile(r"\bfor (?:my |our |a |the )?([a-z]+)", re.I)

_lock = threading.Lock()
_recommenders: dict[tuple[Path, int], Recommender] = {}


def recommender() -> Recommender:
    """One recommender per store served by this process, following the shared searcher's index versions.

    It never trains inside a chat turn: stale tables retrain in a background thread while
    the previous ones keep serving.
    """
    current, index = settings(), searcher()
    key = (current.data_dir, id(index))
    with _lock:
        if key not in _recommenders:
            _recommenders[key] = Recommender(index, current.data_dir / ARTIFACTS_DIR, wait_for_tables=False)
        return _recommenders[key]


def price_cap(tracker: Tracker) -> float | None:
    """"under $50" from the price entity or, when NLU missed it, from the text."""
    for value in tracker.get_latest_entity_values("price_max"):
        if (amount := parse_amount(value)) is not None:
            return amount
    return parse_query(str((tracker.latest_message or {}).get("text") or "")).price_max


def like_target(tracker: Tracker, text: str) -> str | None:
    """The product "more like this" points at, or ``None`` for a plain recommendation.

    A shown product by ordinal ("more like the second one", or the widget's "More like
    this" button, which sends ``/recommend{"ordinal": "2"}`` so one click is one turn),
    else the product last opened when the words ask for something like it.
    """
    asks_similar = LIKE_THIS.search(text) is not None
    if not asks_similar and not any(tracker.get_latest_entity_values("ordinal")):
        return None
    shown = [str(pid) for pid in tracker.get_slot("last_results") or []]
    position = mentioned_ordinal(tracker)
    if position is not None and -len(shown) <= position < len(shown):
        return shown[position]
    selected = tracker.get_slot("selected_product")
    return str(selected) if selected and asks_similar else None


def gift_request(text: str, cap: float | None) -> Request:
    """"a gift for my dad": a gift request with its recipient, when the words say so."""
    match = RECIPIENT.search(text)
    recipient = match.group(1).lower() if match and match.group(1).lower() in RECIPIENT_WORDS else None
    return Request(k=COUNT, max_price=cap, gift=bool(GIFT.search(text)) or recipient is not None, recipient=recipient)


def _intro(request: Request, items: list[Recommendation], personal: bool) -> str:
    """The sentence above the list, true to where the items came from."""
    if request.gift:
        whom = f" for your {request.recipient}" if request.recipient else ""
        under = f" under ${request.max_price:g}" if request.max_price is not None else ""
        return f"Some popular gift ideas{whom}{under}:"
    if not any(item.source not in UNPERSONAL for item in items):
        return "Some of our most popular products:"
    return "Based on what you've bought and looked at, you might like:" if personal else "Some ideas to go with your cart:"


class ActionRecommend(ShopAction):
    action_name = "action_recommend"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict[str, Any]]:
        """The suggestions, then the one-time consent question in the same action call (one Rasa round trip per turn)."""
        with unit_of_work() as uow:
            return self._suggest(dispatcher, tracker, uow) + offer_personalization(dispatcher, tracker, uow)

    def _suggest(self, dispatcher: CollectingDispatcher, tracker: Tracker, uow: UnitOfWork) -> list[dict[str, Any]]:
        index = searcher()
        cap = price_cap(tracker)
        text = str((tracker.latest_message or {}).get("text") or "")
        if Topic.from_text(text).interest:  # "a gift for my sister, she likes yoga": one search by interest
            return search_message(dispatcher, tracker, uow, index)
        target = like_target(tracker, text)
        if target is not None and (product := index.get(target)) is not None:
            items = similar_to(index, target, COUNT, cap)
            intro = f"Here are some products like the {product['title']}:"
        else:
            request = gift_request(text, cap)
            items, personal = recommender().recommend(uow, verified_customer(tracker), request, session_key=tracker.sender_id)
            intro = _intro(request, items, personal)
        if not items:
            dispatcher.utter_message(
                text="I don't have a good suggestion right now. Tell me what you're looking for and I'll search for it."
            )
            return []
        RECOMMENDATIONS.inc()
        products, reasons = [item.product for item in items], [item.reason for item in items]
        dispatcher.utter_message(
            text=product_list_text(intro, products, reasons),
            json_message=products_payload(products, reasons, source="recommend"),
        )
        return [SlotSet("last_results", [p["id"] for p in products])]
