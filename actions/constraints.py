"""The constraints of a product search as they live in slots between turns.

A new search (intent ``search_products``) starts from what this message says: its entities
and what :func:`catalog_index.query.parse_query` reads in its text, so "under $80" works
even when NLU missed the price. A refinement (``refine_search``) keeps the current search
and changes only what the message mentions ("in blue", "cheaper", "size 10").
"""

from __future__ import annotations

import re
import statistics
from dataclasses import asdict, dataclass, replace
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet

from catalog_index.query import Vocabulary, parse_query, without_non_colors
from catalog_index.search import CatalogSearcher, SearchFilters, SearchResult

CHEAPER = re.compile(r"\b(cheaper|less expensive|lower price|more affordable|budget|too expensive|too pricey)\b", re.I)
PRICIER = re.compile(r"\b(more expensive|pricier|higher end|high end|premium|fancier|better quality)\b", re.I)
NUMBER = re.compile(r"\d+(?:[.,]\d+)*")


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
    """One search: the shopper's words (``search_query``) plus structured filters (all optional).

    The words are kept as typed; relevance text, category and a "cheap" preference are read
    from them at search time, while colour, brand, size and price come only from the slots,
    so a refinement or a relaxation of those is never undone by the original words.
    """

    query: str
    product_type: str | None = None
    color: str | None = None
    brand: str | None = None
    size: str | None = None
    price_min: float | None = None
    price_max: float | None = None

    @classmethod
    def from_slots(cls, tracker: Tracker) -> Constraints:
        slot = tracker.get_slot
        return cls(
            query=str(slot("search_query") or ""), product_type=_text(slot("product_type")),
            color=_text(slot("color")), brand=_text(slot("brand")), size=_text(slot("size")),
            price_min=parse_amount(slot("price_min")), price_max=parse_amount(slot("price_max")),
        )

    @classmethod
    def from_message(cls, tracker: Tracker, vocabulary: Vocabulary) -> Constraints:
        """A fresh search from the latest message alone (earlier constraints are dropped)."""
        text = str((tracker.latest_message or {}).get("text") or "")
        entity = lambda name: next(iter(tracker.get_latest_entity_values(name)), None)  # noqa: E731
        fresh = cls(
            query=text.strip(), product_type=_text(entity("product_type")), color=said_colour(tracker),
            brand=_text(entity("brand")), size=_text(entity("size")),
            price_min=parse_amount(entity("price_min")), price_max=parse_amount(entity("price_max")),
        )
        return fresh.with_parsed(text, vocabulary)

    def without_false_colour(self, tracker: Tracker) -> Constraints:
        """This search without a colour NLU read into "black friday" and the like (slots are filled before actions run)."""
        false = {_text(value) for value in tracker.get_latest_entity_values("color")} - {said_colour(tracker)}
        return replace(self, color=None) if self.color is not None and self.color in false else self

    def with_parsed(self, text: str, vocabulary: Vocabulary) -> Constraints:
        """Fill in (or override) what the query parser finds in ``text``."""
        parsed = parse_query(text, vocabulary)
        return replace(
            self,
            color=(parsed.colors[0] if parsed.colors else self.color),
            brand=(parsed.brands[0] if parsed.brands else self.brand),
            size=(parsed.sizes[0] if parsed.sizes else self.size),
            price_min=parsed.price_min if parsed.price_min is not None else self.price_min,
            price_max=parsed.price_max if parsed.price_max is not None else self.price_max,
        )

    def refined(self, tracker: Tracker, shown_prices: list[float], vocabulary: Vocabulary) -> Constraints:
        """This search changed by the latest message; "cheaper" means below the median shown."""
        text = str((tracker.latest_message or {}).get("text") or "")
        changed = self.with_parsed(text, vocabulary)
        parsed = parse_query(text, vocabulary)
        named_price = parsed.price_min is not None or parsed.price_max is not None or any(
            list(tracker.get_latest_entity_values(name)) for name in ("price_min", "price_max")
        )
        if not shown_prices or named_price:
            return changed  # the message named its own bound ("cheaper than $50"), or nothing was shown
        if CHEAPER.search(text):
            changed = replace(changed, price_max=round(statistics.median(shown_prices) - 0.01, 2))
        elif PRICIER.search(text):
            changed = replace(changed, price_min=round(statistics.median(shown_prices) + 0.01, 2))
        return changed

    def run(self, searcher: CatalogSearcher, k: int, offset: int = 0) -> SearchResult:
        """Search the catalog: relevance text and category from the words, filters from the slots."""
        parsed = parse_query(self.query, searcher.vocabulary)
        text = parsed.text
        if self.product_type and self.product_type not in text.lower():
            text = f"{text} {self.product_type}".strip()
        category = parsed.category or parse_query(self.product_type or "", searcher.vocabulary).category
        filters = SearchFilters(
            price_min=self.price_min, price_max=self.price_max, colors=[self.color] if self.color else [],
            brands=[self.brand] if self.brand else [], sizes=[self.size] if self.size else [], category=category,
        )
        return searcher.search(text, k=k, offset=offset, filters=filters, prefer_low_price=parsed.budget)

    def describe(self) -> str:
        """``red, Nike, size 10, under $80`` for the reply's first line (empty when unfiltered)."""
        parts = [part for part in (self.color, self.brand) if part]
        if self.size:
            parts.append(f"size {self.size}")
        if self.price_min is not None:
            parts.append(f"from ${self.price_min:,.2f}")
        if self.price_max is not None:
            parts.append(f"under ${self.price_max:,.2f}")
        return ", ".join(parts)

    def slot_events(self) -> list[dict[str, Any]]:
        values = asdict(self)
        return [SlotSet("search_query", values.pop("query"))] + [SlotSet(name, value) for name, value in values.items()]


PRICE_STRETCH = 1.25


def relaxations(constraints: Constraints) -> list[tuple[Constraints, str]]:
    """Ever looser versions of a search, least important constraint first, each with what changed."""
    looser: list[tuple[Constraints, str]] = []
    current = constraints
    for field, label in (("color", "the colour"), ("brand", "the brand"), ("size", "the size")):
        value = getattr(current, field)
        if value is not None:
            cleared: dict[str, Any] = {field: None}  # one of the optional filters, named by the loop
            current = replace(current, **cleared)
            looser.append((current, f"left out {label} ({value})"))
    if current.price_max is not None:
        current = replace(current, price_max=round(current.price_max * PRICE_STRETCH, 2))
        looser.append((current, f"raised the price limit to ${current.price_max:,.2f}"))
    if current.price_min is not None:
        current = replace(current, price_min=None)
        looser.append((current, "left out the minimum price"))
    return looser
