"""Bought together: products other shoppers' orders held alongside what this customer has.

Anchors are the cart (strongest: the shopper is deciding now) and the customer's purchases,
newer ones weighing more.  The normalized co-purchase table comes from :mod:`.model`.
"""

from __future__ import annotations

import numpy as np

from assistant.recommend.base import Candidate, Context, days, top

CART_WEIGHT = 2.0
RECENCY_HALF_LIFE_DAYS = 180.0
MAX_ANCHORS = 30


def anchors(context: Context) -> list[tuple[int, float, str]]:
    """``(row, weight, how)``: the cart, then purchases newest first, each product once."""
    catalog, profile = context.catalog, context.profile
    found: dict[int, tuple[float, str]] = {}
    for product_id in profile.cart:
        if (row := catalog.row_of.get(product_id)) is not None:
            found[row] = (CART_WEIGHT, "in your cart")
    now = profile.as_of.timestamp()
    for product_id, moments in sorted(profile.bought.items(), key=lambda item: max(item[1]), reverse=True):
        row = catalog.row_of.get(product_id)
        if row is None or row in found:
            continue
        weight = 0.5 ** (days(now - max(moments).timestamp()) / RECENCY_HALF_LIFE_DAYS)
        found[row] = (weight * (1 + np.log1p(len(moments) - 1)), "you bought")
        if len(found) >= MAX_ANCHORS:
            break
    return [(row, weight, how) for row, (weight, how) in found.items()]


def recommend(context: Context, limit: int) -> list[Candidate]:
    table, catalog = context.model.co_purchase, context.catalog
    scores = np.zeros(len(catalog))
    best: dict[int, tuple[float, int, str]] = {}
    for anchor, weight, how in anchors(context):
        start, end = table.indptr[anchor], table.indptr[anchor + 1]
        for col, value in zip(table.indices[start:end], table.data[start:end], strict=True):
            contribution = weight * float(value)
            scores[col] += contribution
            if contribution > best.get(col, (0.0, -1, ""))[0]:
                best[col] = (contribution, anchor, how)
    result = []
    for row in top(scores, limit):
        _, anchor, how = best[row]
        title = catalog.products[anchor]["title"]
        reason = f"often bought with the {title} in your cart" if how == "in your cart" else f"often bought with the {title} you bought"
        result.append(Candidate(row, float(scores[row]), reason))
    return result
