"""First-version recommendations: co-purchase, content similarity, popularity, each with its reason.

For a known customer, candidates come from three sources, interleaved so that one does
not crowd out the others: products other shoppers bought together with what this customer
bought; products nearest (in the catalog index) to what they bought or viewed; and, to fill
up or for a newcomer, what the most shoppers bought. Every item carries one short reason
that is literally true of the data it came from. Products they already bought, products out
of stock or gone from the catalog, and products over ``max_price`` are never suggested.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import chain, zip_longest
from typing import Any

from sqlalchemy import distinct, func, select
from sqlalchemy.orm import Session, aliased

from assistant.store.models import Event, Order, OrderItem
from catalog_index.schema import in_stock
from catalog_index.search import CatalogSearcher, SearchFilters

ANCHORS = 3
POOL = 50


@dataclass(frozen=True)
class Recommendation:
    product: dict[str, Any]
    reason: str
    source: str  # "co_purchase", "similar" or "popular"


def purchased(session: Session, customer_id: str) -> list[str]:
    """Product ids the customer ordered (not cancelled), most recent order first."""
    statement = (
        select(OrderItem.product_id, func.max(Order.placed_at).label("last"))
        .join(Order, Order.id == OrderItem.order_id)
        .where(Order.customer_id == customer_id, Order.status != "cancelled")
        .group_by(OrderItem.product_id)
        .order_by(func.max(Order.placed_at).desc(), OrderItem.product_id)
    )
    return [row.product_id for row in session.execute(statement)]


def viewed(session: Session, customer_id: str, limit: int = ANCHORS) -> list[str]:
    """Products the customer recently looked at or put in a cart, newest first."""
    statement = (
        select(Event.product_id, func.max(Event.at))
        .where(Event.customer_id == customer_id, Event.type.in_(("view", "add_to_cart")), Event.product_id.is_not(None))
        .group_by(Event.product_id)
        .order_by(func.max(Event.at).desc(), Event.product_id)
        .limit(limit)
    )
    return [row[0] for row in session.execute(statement)]


def co_purchased(session: Session, anchors: list[str], customer_id: str) -> list[tuple[str, str, int]]:
    """``(product, anchor, shoppers)``: other shoppers who bought ``anchor`` also bought ``product``."""
    mine, other = aliased(OrderItem), aliased(OrderItem)
    shoppers = func.count(distinct(Order.customer_id))
    statement = (
        select(other.product_id, mine.product_id, shoppers)
        .join(other, (other.order_id == mine.order_id) & (other.product_id != mine.product_id))
        .join(Order, Order.id == mine.order_id)
        .where(mine.product_id.in_(anchors), Order.customer_id != customer_id, Order.status != "cancelled")
        .group_by(other.product_id, mine.product_id)
        .order_by(shoppers.desc(), other.product_id)
        .limit(POOL)
    )
    return [(row[0], row[1], int(row[2])) for row in session.execute(statement)]


def popular(session: Session, limit: int = POOL) -> list[tuple[str, int]]:
    """``(product, shoppers)``: the products the most distinct shoppers ordered."""
    shoppers = func.count(distinct(Order.customer_id))
    statement = (
        select(OrderItem.product_id, shoppers)
        .join(Order, Order.id == OrderItem.order_id)
        .where(Order.status != "cancelled")
        .group_by(OrderItem.product_id)
        .order_by(shoppers.desc(), OrderItem.product_id)
        .limit(limit)
    )
    return [(row[0], int(row[1])) for row in session.execute(statement)]


def _title(searcher: CatalogSearcher, product_id: str) -> str:
    product = searcher.get(product_id)
    return product["title"] if product else "item"


def _plural(count: int) -> str:
    return "1 shopper" if count == 1 else f"{count} shoppers"


def similar_to(
    searcher: CatalogSearcher, product_id: str, k: int, max_price: float | None = None, reason: str | None = None
) -> list[Recommendation]:
    """Nearest in-stock products to one product ("something like this")."""
    why = reason or f"Similar to the {_title(searcher, product_id)}"
    filters = SearchFilters(price_max=max_price, in_stock=True)
    return [Recommendation(hit.product, why, "similar") for hit in searcher.similar(product_id, k=k, filters=filters)]


def _personal(session: Session, searcher: CatalogSearcher, customer_id: str, max_price: float | None) -> Iterator[Recommendation]:
    bought = purchased(session, customer_id)
    together = (
        Recommendation(product, f"{_plural(n)} who bought the {_title(searcher, anchor)} also bought this", "co_purchase")
        for pid, anchor, n in co_purchased(session, bought[:10], customer_id)
        if (product := searcher.get(pid)) is not None
    )
    anchors = [(pid, "you bought") for pid in bought[:ANCHORS]] + [(pid, "you looked at") for pid in viewed(session, customer_id)]
    alike = chain.from_iterable(
        similar_to(searcher, pid, POOL // 5, max_price, f"Similar to the {_title(searcher, pid)} {how}")
        for pid, how in anchors
        if searcher.get(pid) is not None
    )
    for pair in zip_longest(together, alike):
        yield from (item for item in pair if item is not None)


def _popular(session: Session, searcher: CatalogSearcher) -> Iterable[Recommendation]:
    return (
        Recommendation(product, f"Popular: bought by {_plural(n)}", "popular")
        for pid, n in popular(session)
        if (product := searcher.get(pid)) is not None
    )


def recommend(
    session: Session, searcher: CatalogSearcher, customer_id: str | None, k: int = 5, max_price: float | None = None
) -> list[Recommendation]:
    """Up to ``k`` suggestions; personal ones only when ``customer_id`` is given (consent checked by the caller)."""
    owned = set(purchased(session, customer_id)) if customer_id else set()
    personal = _personal(session, searcher, customer_id, max_price) if customer_id else iter(())
    chosen: dict[str, Recommendation] = {}
    for item in chain(personal, _popular(session, searcher)):
        product = item.product
        price = product.get("price")
        if product["id"] in owned or product["id"] in chosen or not in_stock(product):
            continue
        if max_price is not None and (price is None or price > max_price):
            continue
        chosen[product["id"]] = item
        if len(chosen) == k:
            break
    return list(chosen.values())
