"""Which store offers apply to a product, a basket and a shopper.

Prices are never changed here: replies show the catalog price and state the offer
separately, so a shopper never sees a discounted price the checkout would not honour.
Eligibility uses only what the shop's own records say about buying (has the customer
ordered before, their loyalty tier); there is no segment on age, gender or any other
protected attribute, and the promotions table has no column that could hold one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from assistant.store.db import UnitOfWork
from assistant.store.models import Promotion, utcnow
from catalog_index.schema import Product


@dataclass(frozen=True)
class ShopperFacts:
    """What eligibility may look at: ``None`` fields mean unknown (a guest)."""

    has_ordered: bool | None = None
    loyalty_tier: str | None = None


GUEST = ShopperFacts()


def _same(a: str | None, b: str | None) -> bool:
    return a is not None and b is not None and a.strip().lower() == b.strip().lower()


def covers(promotion: Promotion, product: Product) -> bool:
    """Whether the offer's scope includes the product (category matches category or subcategory)."""
    if promotion.scope == "store":
        return True
    if promotion.scope == "product":
        return promotion.scope_value == product.get("id")
    return _same(promotion.scope_value, product.get("category")) or _same(promotion.scope_value, product.get("subcategory"))


def eligible(promotion: Promotion, shopper: ShopperFacts) -> bool:
    """False only when the store's records show the offer is not for this shopper.

    A guest may still be a new customer or hold the tier, so guests see every offer with
    its condition stated in words.
    """
    if promotion.segment == "new_customers":
        return shopper.has_ordered is not True
    if promotion.segment == "loyalty_tier":
        return shopper.loyalty_tier is None or _same(promotion.segment_value, shopper.loyalty_tier)
    return True


def _stems(text: str) -> set[str]:
    """Lower-case words without a plural ``s`` ("Shoes!" -> "shoe")."""
    return {word.rstrip("s") for word in re.findall(r"[a-z0-9]+", text.lower()) if len(word) > 2}


def mentions(promotion: Promotion, text: str, product_title: str | None = None) -> bool:
    """Whether a shopper's words name what the offer is on ("is there a discount on shoes")."""
    if promotion.scope == "store":
        return False
    said = _stems(text)
    if promotion.scope == "product":
        title = _stems(product_title or "")
        return bool(title) and len(title & said) >= min(2, len(title))
    words = re.findall(r"[a-z0-9]+", (promotion.scope_value or "").lower())
    return bool(words) and words[-1].rstrip("s") in said  # the head noun: "running shoes" -> "shoe"


def offers_for_products(
    promotions: Iterable[Promotion], products: Iterable[Product], shopper: ShopperFacts
) -> list[Promotion]:
    """The offers (each once, in the given order) that cover at least one shown product."""
    shown = list(products)
    return [p for p in promotions if eligible(p, shopper) and any(covers(p, product) for product in shown)]



def add_demo_promotions(uow: UnitOfWork, now: datetime | None = None) -> int:
    """The demo store's offers (one per segment and scope kind), added once to an empty table."""
    if uow.promotions.all():
        return 0
    start = now or utcnow()
    offers: list[dict[str, Any]] = [
        {"code": "RUN20", "title": "Running week", "kind": "percent", "value": 20, "scope": "category",
         "scope_value": "running shoes", "min_basket": 100, "ends_at": start + timedelta(days=30)},
        {"code": "WELCOME10", "title": "Welcome offer", "kind": "amount", "value": 10, "min_basket": 50,
         "segment": "new_customers"},
        {"code": "GOLDKITCHEN15", "title": "Gold members' kitchen days", "kind": "percent", "value": 15,
         "scope": "category", "scope_value": "kitchen", "segment": "loyalty_tier", "segment_value": "gold",
         "ends_at": start + timedelta(days=60)},
    ]
    for offer in offers:
        uow.promotions.add(starts_at=start - timedelta(days=1), **offer)
    return len(offers)
