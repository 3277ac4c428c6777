"""Personalized search ranking: the shopper's category and brand affinities reorder results of near-equal relevance.

A result may move above another only when their relevance scores are within ``BAND``
(relative) of each other, so the re-rank reorders ties and near-ties the search could not
tell apart and never lifts a weak match over a clearly better one.  Exact matches (the
query names the product's SKU, id or whole title: the search's exact tiers) keep their
places.  Without consent, or for an anonymous shopper, the order is unchanged.
"""

from __future__ import annotations

from collections.abc import Callable

from assistant.recommend.affinity import Affinities, affinities
from assistant.recommend.profile import load_profile
from assistant.store.db import Store, UnitOfWork
from catalog_index.hybrid import EXACT_TITLE_TIER
from catalog_index.ranking import tokens
from catalog_index.schema import Product
from catalog_index.search import Hit

BAND = 0.05  # a favourite department or brand is worth at most 5% of relevance
DEPARTMENT_SHARE = 0.6  # the rest is the brand's


def is_exact(hit: Hit, query: str) -> bool:
    """The query is the product's whole title, or names its SKU or id (or search ranked it by those tiers)."""
    product = hit.product
    words = tokens(query)
    codes = {str(product.get(key) or "").lower() for key in ("id", "sku")} - {""}
    return hit.score >= EXACT_TITLE_TIER or words == tokens(str(product.get("title") or "")) or bool(codes & set(words))


def boost(product: Product, liked: Affinities) -> float:
    """0..1: how much this product sits in the shopper's favourite department and brand."""
    sub, cat, brand = liked.of(product)
    top_department = max([*liked.subcategory.values(), *liked.category.values()], default=0.0)
    top_brand = max(liked.brand.values(), default=0.0)
    department = max(sub, cat) / top_department if top_department else 0.0
    favourite = brand / top_brand if top_brand else 0.0
    return DEPARTMENT_SHARE * department + (1.0 - DEPARTMENT_SHARE) * favourite


def rerank(hits: list[Hit], liked: Affinities | None, query: str) -> list[Hit]:
    """``hits`` reordered within relevance; exact matches stay where they are."""
    if not liked:
        return list(hits)
    pinned = {position for position, hit in enumerate(hits) if is_exact(hit, query)}
    movable = [hit for position, hit in enumerate(hits) if position not in pinned]
    keyed = sorted(
        enumerate(movable),
        key=lambda pair: (-(pair[1].score * (1.0 + BAND * boost(pair[1].product, liked))), pair[0]),
    )
    reordered = iter(hit for _, hit in keyed)
    return [hits[position] if position in pinned else next(reordered) for position in range(len(hits))]


def customer_affinities(uow: UnitOfWork, customer_id: str | None, get: Callable[[str], Product | None]) -> Affinities | None:
    """The customer's affinities, or None without consent (or for an anonymous shopper)."""
    profile = load_profile(uow, customer_id)
    return affinities(get, profile) if profile.personalized else None


def personalize(
    store: Store, customer_id: str | None, get: Callable[[str], Product | None], hits: list[Hit], query: str
) -> list[Hit]:
    """Read the customer's affinities in a unit of work of its own and re-rank ``hits`` (blocking: run in a thread)."""
    if customer_id is None or not hits:
        return list(hits)
    with store.unit_of_work() as uow:
        liked = customer_affinities(uow, customer_id, get)
    return rerank(hits, liked, query)
