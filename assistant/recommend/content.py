"""Content similarity: products whose catalog-index vectors are nearest to what the shopper bought or viewed.

Each anchor (newest first, purchases weighing more than views) scores every product by
cosine similarity; a product keeps its best anchor's weighted score, and that anchor is
its reason, so "because you bought X" always names a real purchase.
"""

from __future__ import annotations

import numpy as np

from assistant.recommend.base import Candidate, Context, top

MAX_ANCHORS = 20
WEIGHTS = {"in your cart": 1.0, "bought": 1.0, "viewed": 0.7}
RANK_DECAY = 0.97  # each older anchor counts a little less


def anchors(context: Context) -> list[tuple[int, float, str]]:
    catalog, profile = context.catalog, context.profile
    found: list[tuple[int, float, str]] = []
    seen: set[int] = set()
    pairs = [(pid, "in your cart") for pid in profile.cart] + profile.recent_products(MAX_ANCHORS)
    for position, (product_id, how) in enumerate(pairs):
        row = catalog.row_of.get(product_id)
        if row is not None and row not in seen:
            seen.add(row)
            found.append((row, WEIGHTS[how] * RANK_DECAY**position, how))
    return found[:MAX_ANCHORS]


def recommend(context: Context, limit: int) -> list[Candidate]:
    vectors, catalog = context.catalog.vectors, context.catalog
    chosen = anchors(context)
    if vectors is None or not chosen:
        return []
    rows = [row for row, _, _ in chosen]
    weights = np.array([weight for _, weight, _ in chosen], dtype=np.float32)
    weighted = (vectors @ vectors[rows].T) * weights  # (products, anchors)
    weighted[rows, :] = 0.0
    best = weighted.argmax(axis=1)
    scores = weighted[np.arange(len(catalog)), best]
    result = []
    for row in top(scores, limit):
        anchor, _, how = chosen[int(best[row])]
        title = catalog.products[anchor]["title"]
        verb = {"in your cart": "it's like the", "bought": "because you bought the", "viewed": "because you looked at the"}[how]
        reason = f"{verb} {title} in your cart" if how == "in your cart" else f"{verb} {title}"
        result.append(Candidate(row, float(scores[row]), reason))
    return result
