"""Which product does the shopper mean? "the second one", "this", "the Trail Boot"...

Tried in order, most specific first: an ordinal (NLU entity, or the words of the message
when NLU missed it) into the list last shown; a product of that list named in the message;
"this"/"it" or no words at all for the product last opened; finally a catalog search
on the words left after removing the command words.
"""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Tracker

from catalog_index.schema import Product
from catalog_index.search import CatalogSearcher

ORDINAL_WORDS = {
    "first": 0, "1st": 0, "one": 0, "second": 1, "2nd": 1, "two": 1, "third": 2, "3rd": 2, "three": 2,
    "fourth": 3, "4th": 3, "four": 3, "fifth": 4, "5th": 4, "five": 4, "sixth": 5, "6th": 5, "six": 5,
    "seventh": 6, "7th": 6, "eighth": 7, "8th": 7, "ninth": 8, "9th": 8, "tenth": 9, "10th": 9,
    "last": -1, "final": -1,
}
# "it", "this one", a bare "this"/"that" at the end; "that blue one" names a shown product instead
POINTING = re.compile(r"\b(?:it|its|it's)\b|\b(?:this|that) one\b|\b(?:this|that)\s*[.!?]*$", re.I)
COMMAND_WORDS = frozenset(
    "a an the add put to into in my cart basket bag please show tell me more about details detail info on of "
    "for i want would like buy get remove take out from delete drop one ones it this that item product can you "
    "number no give see open more and x with those these them".split()
)
WORD = re.compile(r"[a-z0-9#']+")


def ordinal_position(value: Any) -> int | None:
    """0-based position for "second"/"2"/"#2"/"2nd", ``-1`` for "last", ``None`` if not an ordinal."""
    text = str(value).strip().lower().lstrip("#")
    if text.isdigit():
        return int(text) - 1 if int(text) > 0 else None
    return ORDINAL_WORDS.get(text)


def mentioned_ordinal(tracker: Tracker) -> int | None:
    """The ordinal entity, else an ordinal word or ``number 3`` / ``#3`` in the text."""
    for value in tracker.get_latest_entity_values("ordinal"):
        position = ordinal_position(value)
        if position is not None:
            return position
    words = WORD.findall(str((tracker.latest_message or {}).get("text") or "").lower())
    for index, word in enumerate(words):
        if word in ORDINAL_WORDS and word not in {"one", "two", "three", "four", "five", "six"}:
            return ORDINAL_WORDS[word]
        if (word.startswith("#") and word[1:].isdigit()) or (word.isdigit() and index and words[index - 1] == "number"):
            return ordinal_position(word)
    return None


def content_words(text: str) -> list[str]:
    words = WORD.findall(text.lower())
    return [word for word in words if word not in COMMAND_WORDS and word not in ORDINAL_WORDS and not word.isdigit()]


def _named_in(text_words: list[str], products: list[Product]) -> Product | None:
    """The shown product whose title, brand or colour shares the most words with the message."""
    wanted = set(text_words)
    best, best_overlap = None, 0
    for product in products:
        described = " ".join(str(product.get(key) or "") for key in ("title", "brand", "color"))
        overlap = len(wanted & set(WORD.findall(described.lower())))
        if overlap > best_overlap:
            best, best_overlap = product, overlap
    return best


def points_at_focus(text: str) -> bool:
    """"it", "this one", "that": the message points at the product in focus, not at a new one."""
    return POINTING.search(text.strip()) is not None


def focus_product(tracker: Tracker, searcher: CatalogSearcher) -> Product | None:
    """The product in focus (``selected_product``: last detailed, added or chosen), if any."""
    selected = tracker.get_slot("selected_product")
    return searcher.get(str(selected)) if selected else None


def resolve_product(tracker: Tracker, searcher: CatalogSearcher, search_catalog: bool = True) -> Product | None:
    """The product the latest message refers to, or ``None`` when it is not clear.

    "it"/"this one" with a product in focus is that product, before any word matching:
    "put it in my basket" must never add something the catalog search happens to find.
    ``search_catalog=False`` keeps to the focus and the list shown (a question's words
    are about the product, not a product name).
    """
    shown_ids = [str(pid) for pid in tracker.get_slot("last_results") or []]
    position = mentioned_ordinal(tracker)
    if position is not None:
        if -len(shown_ids) <= position < len(shown_ids):
            return searcher.get(shown_ids[position])
        return None
    text = str((tracker.latest_message or {}).get("text") or "")
    focus = focus_product(tracker, searcher)
    if focus is not None and points_at_focus(text):
        return focus
    words = content_words(text)
    if words:
        shown = [product for pid in shown_ids if (product := searcher.get(pid)) is not None]
        named = _named_in(words, shown)
        if named is not None:
            return named
        if search_catalog and not points_at_focus(text):
            hits = searcher.search(" ".join(words), k=1).hits
            if hits:
                return hits[0].product
    if focus is not None:
        return focus
    if len(shown_ids) == 1:
        return searcher.get(shown_ids[0])
    return None
