"""Comparing the products shown: "compare the first two", "which is better for running".

The products are the ones the message names by position ("the first two", "1 and 3",
"the second and the third"), else the product in focus beside the list, else the first
few shown. The comparison lists the attributes at least one of them has (price, rating,
brand, colour, sizes, stock where known, what the catalog lists them as), as text for any
channel and as a ``comparison`` payload the widget renders as a table. A purpose ("for
running") ranks them by how well their own text matches it, quoting the best match.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, TypedDict

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.base import ShopAction
from actions.context import searcher
from actions.product_questions import encoder
from actions.replies import money, product_card, stock_known
from actions.resolve import ORDINAL_WORDS, WORD
from catalog_index.embedder import document_text
from catalog_index.schema import Product, in_stock

MOST = 4


class ComparisonRow(TypedDict):
    """One row of a ``comparison`` payload (docs/contracts.md): an attribute and one value per product, in order."""

    attribute: str
    values: list[str | None]  # None: that product has no value for it

COUNTED = re.compile(r"\b(?:first|top|these|those|the)\s+(two|three|four|2|3|4)\b", re.I)
COUNTS = {"two": 2, "three": 3, "four": 4, "2": 2, "3": 3, "4": 4}
PURPOSE = re.compile(r"\b(?:better|best|good|suited|suitable|ideal|nicer)\s+(?:for|to|when|if)\s+(.+?)[?.!]*$", re.I)
POSITION_WORDS = {**{k: v for k, v in ORDINAL_WORDS.items() if k not in ("one",)}, **{str(n): n - 1 for n in range(1, 11)}}


def positions(text: str) -> list[int]:
    """0-based positions the message names: "the first two" -> [0, 1], "1 and 3" -> [0, 2]."""
    counted = COUNTED.search(text)
    if counted:
        return list(range(COUNTS[counted.group(1).lower()]))
    named = [POSITION_WORDS[word] for word in WORD.findall(text.lower()) if word in POSITION_WORDS]
    return list(dict.fromkeys(named))


def chosen(tracker: Tracker, shown: list[str]) -> list[str]:
    """The ids to compare (at most :data:`MOST`)."""
    text = str((tracker.latest_message or {}).get("text") or "")
    picked = list(dict.fromkeys(shown[p] for p in positions(text) if -len(shown) <= p < len(shown)))
    if len(picked) >= 2:
        return picked[:MOST]
    focus = tracker.get_slot("selected_product")
    return list(dict.fromkeys(([str(focus)] if focus else []) + picked + shown))[:MOST]


def rows(products: list[Product]) -> list[ComparisonRow]:
    """One row per attribute at least one product has; ``None`` where a product has no value."""
    def stock(p: Product) -> str | None:
        return None if not stock_known(p) else ("in stock" if in_stock(p) else "out of stock")

    table: list[tuple[str, Callable[[Product], str | None]]] = [
        ("Price", lambda p: money(p.get("price"), p.get("currency")) if p.get("price") is not None else None),
        ("Rating", lambda p: f"{p['rating']:.1f} / 5" if p.get("rating") is not None else None),
        ("Brand", lambda p: p.get("brand")),
        ("Colour", lambda p: p.get("color")),
        ("Sizes", lambda p: ", ".join(p["sizes"]) if p.get("sizes") else None),
        ("Stock", stock),
        ("Listed as", lambda p: ", ".join(p["tags"]) if p.get("tags") else None),
    ]
    built = [ComparisonRow(attribute=name, values=[value(p) for p in products]) for name, value in table]
    return [row for row in built if any(v is not None for v in row["values"])]


def verdicts(products: list[Product]) -> list[str]:
    """Cheapest and best rated, when they can be told."""
    lines = []
    priced = [(price, p["title"]) for p in products if (price := p.get("price")) is not None]
    if len(priced) >= 2:
        lines.append(f"Cheapest: {min(priced, key=lambda pair: pair[0])[1]}.")
    rated = [(rating, p["title"]) for p in products if (rating := p.get("rating")) is not None]
    if len(rated) >= 2:
        lines.append(f"Best rated: {max(rated, key=lambda pair: pair[0])[1]}.")
    return lines


def comparison_text(products: list[Product], table: list[ComparisonRow]) -> str:
    lines = ["Side by side:"]
    for n, product in enumerate(products):
        facts = [f"{row['attribute'].lower()} {row['values'][n]}" for row in table if row["values"][n] is not None]
        lines.append(f"{n + 1}. {product['title']}: " + "; ".join(facts))
    return "\n".join(lines + verdicts(products))


class ActionCompare(ShopAction):
    action_name = "action_compare"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict[str, Any]]:
        index = searcher()
        shown = [str(pid) for pid in tracker.get_slot("last_results") or []]
        products = [p for pid in chosen(tracker, shown) if (p := index.get(pid)) is not None]
        if len(products) < 2:
            dispatcher.utter_message(text="I need at least two products to compare. Search for something first, "
                                     "then say \"compare the first two\".")
            return []
        table = rows(products)
        text = comparison_text(products, table)
        purpose = PURPOSE.search(str((tracker.latest_message or {}).get("text") or ""))
        if purpose:
            encode = encoder(index)
            vectors = encode([purpose.group(1), *(document_text(p) for p in products)])
            best = products[int((vectors[1:] @ vectors[0]).argmax())]
            text += f"\nFor {purpose.group(1)}, the closest match in what the catalog says is the {best['title']}."
        dispatcher.utter_message(
            text=text,
            json_message={"type": "comparison", "products": [product_card(p) for p in products], "rows": table},
        )
        return []
