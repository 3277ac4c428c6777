"""Category and brand affinity: popular products in the subcategories, categories and brands the shopper favours.

A shopper's next new product usually comes from the departments they keep coming back to,
and within them from the popular lines of brands they like.  The affinities are shares of
their purchases, cart and views (views count less); the same affinities drive the
personalized search re-rank (:mod:`.rerank`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from assistant.recommend.base import Candidate, Context, top
from assistant.recommend.profile import Profile
from catalog_index.schema import Product

SIGNAL_WEIGHTS = {"bought": 3.0, "cart": 2.0, "add_to_cart": 1.0, "view": 0.5}
BRAND_LIFT = 1.0  # a product of a brand the shopper buys only, at most, doubles its score
SMOOTHING = 0.1  # departments the shopper never touched keep a tenth of their popularity


@dataclass(frozen=True)
class Affinities:
    """Shares (0..1) of the shopper's attention per subcategory, category and brand."""

    subcategory: dict[str, float]
    category: dict[str, float]
    brand: dict[str, float]

    def __bool__(self) -> bool:
        return bool(self.category or self.subcategory or self.brand)

    def of(self, product: Product) -> tuple[float, float, float]:
        return (
            self.subcategory.get(str(product.get("subcategory") or ""), 0.0),
            self.category.get(str(product.get("category") or ""), 0.0),
            self.brand.get(str(product.get("brand") or ""), 0.0),
        )


def _shares(counts: dict[str, float]) -> dict[str, float]:
    total = sum(counts.values())
    return {key: value / total for key, value in counts.items() if key} if total else {}


def affinities(get: Callable[[str], Product | None], profile: Profile) -> Affinities:
    """The shopper's shares; ``get`` finds a product by id (the catalog's or the search index's)."""
    signals: list[tuple[str, float]] = [(line.product_id, SIGNAL_WEIGHTS["bought"]) for line in profile.lines]
    signals += [(pid, SIGNAL_WEIGHTS["cart"]) for pid in profile.cart]
    signals += [(i.product_id, SIGNAL_WEIGHTS.get(i.type, 0.5)) for i in profile.interests]
    counts: dict[str, defaultdict[str, float]] = {key: defaultdict(float) for key in ("subcategory", "category", "brand")}
    for product_id, weight in signals:
        product = get(product_id)
        if product is None:
            continue
        for key, counter in counts.items():
            if value := product.get(key):
                counter[str(value)] += weight
    return Affinities(**{key: _shares(counter) for key, counter in counts.items()})


def shares(context: Context) -> np.ndarray | None:
    """``(rows, 3)``: each product's share of the shopper's attention by subcategory, category and brand
    (what ``Affinities.of`` gives it), or None when the shopper has no affinities at all."""
    catalog = context.catalog
    liked = affinities(catalog.get, context.profile)
    if not liked:
        return None
    return np.column_stack([
        np.array([part.get(value, 0.0) for value in values], dtype=float)[codes]
        for part, (codes, values) in zip(
            (liked.subcategory, liked.category, liked.brand),
            (catalog.facets["subcategory"], catalog.facets["category"], catalog.facets["brand"]), strict=True,
        )
    ])


def weights(share: np.ndarray) -> np.ndarray:
    """How much the shopper's departments and brands multiply each product's popularity (``SMOOTHING`` to ``2 * (SMOOTHING + 1)``)."""
    return (SMOOTHING + 0.5 * share[:, 0] + 0.5 * share[:, 1]) * (1.0 + BRAND_LIFT * share[:, 2])


def recommend(context: Context, limit: int) -> list[Candidate]:
    catalog, model = context.catalog, context.model
    share = shares(context)
    if share is None:
        return []
    department = 0.5 * share[:, 0] + 0.5 * share[:, 1]
    scores = model.popularity * weights(share)
    result = []
    for row in top(scores, limit):
        product = catalog.products[row]
        place = product.get("subcategory") if share[row, 0] >= share[row, 1] / 2 and product.get("subcategory") else catalog.categories[row]
        if department[row] == 0:
            reason = f"a best seller in {catalog.categories[row]}"
        elif share[row, 2] == 0 or not product.get("brand"):
            reason = f"popular in {place}, which you shop often"
        else:
            reason = f"popular in {place}, from {product['brand']}, a brand you like"
        result.append(Candidate(row, float(scores[row]), reason))
    return result
