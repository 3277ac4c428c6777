""""What brands do you have for X?": the brands among the products matching X, with counts.

X is what the message names ("brands of yoga mats"), else the current topic (after a
search for badminton racquets, "what brands might you suggest?" means racquet brands).
Only with neither does the answer cover the whole catalog.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.base import ShopAction
from actions.constraints import Constraints, with_slot_filters
from actions.context import searcher
from actions.topic import names_no_product
from catalog_index.filters import SearchFilters
from catalog_index.request import SearchRequest
from catalog_index.schema import Product
from catalog_index.search import CatalogSearcher

MATCHES = 40
LISTED = 8
BRAND_WORDS = re.compile(
    r"\b(what|which|any|other|top|best|good|brands?|labels?|makers?|manufacturers?|do|does|you|have|carry|sell|stock|"
    r"suggest|recommend|would|might|could|can|there|are|is|for|of|make|makes|who|in|your|shop|store|got|options?|"
    r"list|show|me|the|these|those|them|from|come|cheaper|please)\b",
    re.I,
)


def subject(tracker: Tracker, index: CatalogSearcher) -> Constraints | None:
    """The search whose brands are asked for: the message's own subject, else the current topic."""
    text = str((tracker.latest_message or {}).get("text") or "")
    named = next(iter(tracker.get_latest_entity_values("product_type")), None)
    rest = SearchRequest.parse(str(named or BRAND_WORDS.sub(" ", text)).strip(" ?.!,"), index.vocabulary)
    if not names_no_product(rest):
        return Constraints(with_slot_filters(rest, SearchFilters()))  # its kind only: a brand it names is not the question
    if tracker.get_slot("search_query") is not None:
        return Constraints.from_slots(tracker, index.vocabulary).with_filters(brands=[])  # which brands: not only the one filtered on
    return None


def on_topic(products: list[Product], lead: int = 3) -> list[Product]:
    """The matches in the same kind (subcategory, else category) as the best few: no stray brands from the tail."""
    kinds = {p.get("subcategory") or p.get("category") for p in products[:lead]} - {None}
    return [p for p in products if not kinds or (p.get("subcategory") or p.get("category")) in kinds]


def brand_counts(products: list[Product]) -> list[tuple[str, int]]:
    """Brands by how many of ``products`` they make, most first (ties alphabetical)."""
    counts = Counter(str(p["brand"]) for p in products if p.get("brand"))
    return sorted(counts.items(), key=lambda item: (-item[1], item[0].lower()))


def brands_text(counts: list[tuple[str, int]], among: str) -> str:
    listed = ", ".join(f"{brand} ({count})" for brand, count in counts[:LISTED])
    more = f", and {len(counts) - LISTED} more" if len(counts) > LISTED else ""
    return f"Brands {among}: {listed}{more}. Say \"only {counts[0][0]}\" to see one brand."


class ActionBrands(ShopAction):
    action_name = "action_brands"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict[str, Any]]:
        index = searcher()
        wanted = subject(tracker, index)
        if wanted is None:
            products = [p for pid in index.product_ids if (p := index.get(pid)) is not None]
            among = f"across our catalog ({len(products)} products)"
        else:
            products = on_topic([hit.product for hit in index.run(wanted.request.page(MATCHES)).hits])
            what = wanted.query or "your search"
            among = f"among the {len(products)} best matches for \"{what}\""
        counts = brand_counts(products)
        if not counts:
            dispatcher.utter_message(text="The catalog doesn't name a brand for those products. Want me to show them?")
            return []
        buttons = [{"title": f"Only {brand}", "payload": f"only {brand}"} for brand, _ in counts[:3]] if wanted else []
        dispatcher.utter_message(text=brands_text(counts, among), buttons=buttons)
        return []
