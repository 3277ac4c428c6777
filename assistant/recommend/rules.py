"""Business rules applied to the blended ranking, and what a gift request changes.

In order: not known to be out of stock (a catalog without stock data is no reason to
recommend nothing); not in the cart; not something the shopper already owns unless it is on
their buy-again list; within the budget; no product (or identical title) twice; at most
``ceil(k * CATEGORY_SHARE)`` new products from one category while others are available
(buy-again products are the shopper's own habits and are not capped).  A gift
("for my dad") never suggests the shopper's own consumables or any consumable, and leans
to products whose category, tags or title name the recipient (when the catalog has such
words at all); the recipient words are plain English, not the demo catalog's categories.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from assistant.recommend.base import Candidate
from assistant.recommend.catalog import Catalog
from assistant.recommend.model import Model

CATEGORY_SHARE = 0.4
_MEN = ("men", "mens", "man", "male", "father", "dad", "gentleman")
_WOMEN = ("women", "womens", "woman", "female", "mother", "mom", "ladies", "lady")
_KIDS = ("kids", "kid", "children", "child", "toy", "toys", "boys", "girls", "youth", "junior")
_BABY = ("baby", "babies", "infant", "toddler", "newborn")
RECIPIENT_WORDS: dict[str, tuple[str, ...]] = {
    **dict.fromkeys(("dad", "father", "husband", "boyfriend", "brother", "grandpa", "grandfather", "uncle", "him"), _MEN),
    **dict.fromkeys(("mom", "mum", "mother", "wife", "girlfriend", "sister", "grandma", "grandmother", "aunt", "her"), _WOMEN),
    **dict.fromkeys(("kid", "kids", "child", "children", "son", "daughter", "nephew", "niece", "grandson", "granddaughter"), _KIDS),
    **dict.fromkeys(("baby", "newborn", "toddler"), _BABY),
}
WORD = re.compile(r"[a-z]+")


@dataclass(frozen=True)
class Request:
    """What the shopper asked for: how many, a price cap, and whether it is a gift (for whom)."""

    k: int = 10
    max_price: float | None = None
    gift: bool = False
    recipient: str | None = None  # "dad", "my sister", ... as the shopper said it
    in_stock_only: bool = True  # leave out products known to be sold out (the offline evaluation turns it off)


def recipient_rows(catalog: Catalog, recipient: str | None) -> set[int]:
    """Rows whose category, subcategory, tags or title carry a word for the recipient."""
    words = {hint for word in WORD.findall((recipient or "").lower()) for hint in RECIPIENT_WORDS.get(word, ())}
    if not words:
        return set()
    found = set()
    for row, product in enumerate(catalog.products):
        text = " ".join(str(product.get(key) or "") for key in ("category", "subcategory", "title"))
        tokens = set(WORD.findall((text + " " + " ".join(product.get("tags") or [])).lower().replace("'s", "s")))
        if tokens & words:
            found.add(row)
    return found


def allowed(catalog: Catalog, model: Model, request: Request, owned: set[int], again: set[int]) -> np.ndarray:
    """A mask of the rows that may be suggested at all (``again``: owned rows that may come back)."""
    mask = ~catalog.sold_out if request.in_stock_only else np.ones(len(catalog), dtype=bool)
    if request.max_price is not None:
        mask &= ~np.isnan(catalog.prices) & (catalog.prices <= request.max_price)
    blocked = owned if request.gift else owned - again
    if blocked:
        mask[list(blocked)] = False
    if request.gift:
        mask &= np.isnan(model.cycle_days)
    return mask


def select(catalog: Catalog, ranked: Iterable[Candidate], mask: np.ndarray, k: int, uncapped: set[int] = frozenset()) -> list[Candidate]:  # type: ignore[assignment]
    """The first ``k`` allowed candidates, each product and title once, categories capped (but not ``uncapped`` rows) while possible."""
    cap = max(2, math.ceil(k * CATEGORY_SHARE))
    chosen: list[Candidate] = []
    held: list[Candidate] = []
    rows: set[int] = set()
    titles: set[str] = set()
    per_category: Counter[str] = Counter()
    for candidate in ranked:
        row = candidate.row
        title = catalog.products[row]["title"].strip().lower()
        if not mask[row] or row in rows or title in titles:
            continue
        rows.add(row)
        titles.add(title)
        category = catalog.categories[row]
        if row in uncapped:
            chosen.append(candidate)
            if len(chosen) == k:
                return chosen
            continue
        if per_category[category] >= cap:
            held.append(candidate)
            continue
        per_category[category] += 1
        chosen.append(candidate)
        if len(chosen) == k:
            return chosen
    return chosen + held[: k - len(chosen)]
