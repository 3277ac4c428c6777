"""The product search of a conversation: one :class:`SearchRequest` kept in slots between turns.

A message is parsed once (:meth:`SearchRequest.parse`, the same request the REST API and the
CLI build from the same words).  A new search (intent ``search_products``) starts from that
request, with the message's NLU entities filling in what parsing missed.  A refinement
(``refine_search``) keeps the current request and changes only what the message mentions
("in blue", "cheaper", "size 10").  Relaxations and refinements are made with ``replace``: the
words are never parsed again within a turn.

Between turns the request lives in slots: the words as typed (``search_query``), the
product type, and the filters a refinement may change (colour, brand, size, price).  The
words' own parts (relevance text, category, "in stock", a "cheap" preference) are read back
from ``search_query`` by one parse on the next turn, so every request this module builds is
exactly what :meth:`Constraints.from_slots` rebuilds from its slot events: "show more" pages
the very search the shopper saw.
"""

from __future__ import annotations

import re
import statistics
from dataclasses import dataclass, replace
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet

from catalog_index.filters import SearchFilters
from catalog_index.query import Vocabulary, category_named, without_non_colors
from catalog_index.request import SearchRequest

CHEAPER = re.compile(r"\b(cheaper|less expensive|lower price|more affordable|budget|too expensive|too pricey)\b", re.I)
PRICIER = re.compile(r"\b(more expensive|pricier|higher end|high end|premium|fancier|better quality)\b", re.I)
NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
SLOT_FILTERS = ("price_min", "price_max", "colors", "brands", "sizes")  # the filters kept in slots, which refinements change


def parse_amount(value: Any) -> float | None:
    """A price slot or entity as a float: ``80``, ``"$80"``, ``"1,299.00"``; ``None`` otherwise."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    match = NUMBER.search(str(value))
    return float(match.group().replace(",", "")) if match else None


def _text(value: Any) -> str | None:
    text = str(value).strip().lower() if value is not None else ""
    return text or None


def _texts(value: Any) -> list[str]:
    """A constraint slot as a list: NLU fills one value, a search with several ("red or blue") stores a list."""
    values = value if isinstance(value, list) else [value]
    return [text for text in map(_text, values) if text]


def _slot(values: list[str]) -> str | list[str] | None:
    """A list of constraint values as its slot value: ``None``, the one value, or the list."""
    return None if not values else values[0] if len(values) == 1 else list(values)


def with_slot_filters(words: SearchRequest, filters: SearchFilters) -> SearchRequest:
    """``words`` (its text, category, stock and cheap preference) with the slot-kept filters of ``filters``."""
    return words.with_filters(**{name: getattr(filters, name) for name in SLOT_FILTERS})


def said_colour(tracker: Tracker) -> str | None:
    """The colour entity of the latest message, unless its word is part of "black friday" and the like."""
    text = without_non_colors(str((tracker.latest_message or {}).get("text") or "")).lower()
    for value in tracker.get_latest_entity_values("color"):
        colour = _text(value)
        if colour and re.search(rf"(?<!\w){re.escape(colour)}(?!\w)", text):
            return colour
    return None


@dataclass(frozen=True)
class Constraints:
    """One search in conversation: its request, and the product type NLU named (kept in its own slot).

    The product type joins the relevance text when the words lack it, and names the category
    when the words name none ("show me some" with ``product_type=boots``).
    """

    request: SearchRequest
    product_type: str | None = None

    @property
    def query(self) -> str:
        """The words as typed, shown back in replies."""
        return self.request.query

    @classmethod
    def from_slots(cls, tracker: Tracker, vocabulary: Vocabulary) -> Constraints:
        """The current search: its stored words parsed once, the filters from their slots."""
        slot = tracker.get_slot
        words = SearchRequest.parse(str(slot("search_query") or ""), vocabulary)
        filters = SearchFilters(
            price_min=parse_amount(slot("price_min")), price_max=parse_amount(slot("price_max")), colors=_texts(slot("color")),
            brands=_texts(slot("brand")), sizes=_texts(slot("size")),
        )
        return cls(with_slot_filters(words, filters), _text(slot("product_type"))).typed(vocabulary)

    @classmethod
    def fresh(cls, words: SearchRequest, tracker: Tracker, vocabulary: Vocabulary) -> Constraints:
        """A new search for ``words`` (parsed from this message), over its NLU entities: the words win where both speak."""
        entity = lambda name: next(iter(tracker.get_latest_entity_values(name)), None)  # noqa: E731
        colour, brand, size = said_colour(tracker), _text(entity("brand")), _text(entity("size"))
        entities = SearchFilters(
            price_min=parse_amount(entity("price_min")), price_max=parse_amount(entity("price_max")),
            colors=[colour] if colour else [], brands=[brand] if brand else [], sizes=[size] if size else [],
        )
        return cls(with_slot_filters(words, entities.overridden_by(words.filters)), _text(entity("product_type"))).typed(vocabulary)

    def typed(self, vocabulary: Vocabulary) -> Constraints:
        """This search with its product type in the relevance text and, when the words name none, as the category."""
        kind, request = self.product_type, self.request
        if not kind:
            return self
        text = request.text if kind in request.text.lower() else f"{request.text} {kind}".strip()
        category = request.filters.category or category_named(kind, vocabulary)
        return replace(self, request=replace(request, text=text).with_filters(category=category))

    def about(self, query: str, vocabulary: Vocabulary) -> Constraints:
        """This search for other words (a topic's interest): their text, category and preferences, these filters."""
        words = SearchRequest.parse(query, vocabulary)
        return replace(self, request=with_slot_filters(words, self.request.filters)).typed(vocabulary)

    def with_filters(self, **changes: Any) -> Constraints:
        """This search with some slot-kept filters changed (``colors=[]``, ``price_max=40.0``)."""
        assert set(changes) <= set(SLOT_FILTERS), changes  # anything else would not survive the slots
        return replace(self, request=self.request.with_filters(**changes))

    def without_false_colour(self, tracker: Tracker) -> Constraints:
        """This search without a colour NLU read into "black friday" and the like (slots are filled before actions run)."""
        false = {_text(value) for value in tracker.get_latest_entity_values("color")} - {said_colour(tracker)}
        colors = [color for color in self.request.filters.colors if color not in false]
        return self.with_filters(colors=colors) if colors != self.request.filters.colors else self

    def refined(self, said: SearchRequest, tracker: Tracker, shown_prices: list[float]) -> Constraints:
        """This search changed by the message ``said`` (parsed once); "cheaper" means below the median shown."""
        changed = replace(self, request=with_slot_filters(self.request, self.request.filters.overridden_by(said.filters)))
        named_price = said.filters.price_min is not None or said.filters.price_max is not None or any(
            list(tracker.get_latest_entity_values(name)) for name in ("price_min", "price_max")
        )
        if not shown_prices or named_price:
            return changed  # the message named its own bound ("cheaper than $50"), or nothing was shown
        if CHEAPER.search(said.query):
            changed = changed.with_filters(price_max=round(statistics.median(shown_prices) - 0.01, 2))
        elif PRICIER.search(said.query):
            changed = changed.with_filters(price_min=round(statistics.median(shown_prices) + 0.01, 2))
        return changed

    def describe(self) -> str:
        """``red, Nike, size 10, under $80`` for the reply's first line (empty when unfiltered)."""
        filters = self.request.filters
        parts = [" or ".join(values) for values in (filters.colors, filters.brands) if values]
        if filters.sizes:
            parts.append(f"size {' or '.join(filters.sizes)}")
        if filters.price_min is not None:
            parts.append(f"from ${filters.price_min:,.2f}")
        if filters.price_max is not None:
            parts.append(f"under ${filters.price_max:,.2f}")
        return ", ".join(parts)

    def slot_events(self) -> list[dict[str, Any]]:
        """The slots that keep this search until the next turn (:meth:`from_slots` reads them back)."""
        filters = self.request.filters
        return [
            SlotSet("search_query", self.request.query), SlotSet("product_type", self.product_type),
            SlotSet("color", _slot(filters.colors)), SlotSet("brand", _slot(filters.brands)), SlotSet("size", _slot(filters.sizes)),
            SlotSet("price_min", filters.price_min), SlotSet("price_max", filters.price_max),
        ]


PRICE_STRETCH = 1.25


def relaxations(constraints: Constraints) -> list[tuple[Constraints, str]]:
    """Ever looser versions of a search, least important constraint first, each with what changed."""
    looser: list[tuple[Constraints, str]] = []
    current = constraints
    for field, label in (("colors", "the colour"), ("brands", "the brand"), ("sizes", "the size")):
        values = getattr(current.request.filters, field)
        if values:
            current = current.with_filters(**{field: []})
            looser.append((current, f"left out {label} ({', '.join(values)})"))
    price_max = current.request.filters.price_max
    if price_max is not None:
        current = current.with_filters(price_max=round(price_max * PRICE_STRETCH, 2))
        looser.append((current, f"raised the price limit to ${current.request.filters.price_max:,.2f}"))
    if current.request.filters.price_min is not None:
        current = current.with_filters(price_min=None)
        looser.append((current, "left out the minimum price"))
    return looser
