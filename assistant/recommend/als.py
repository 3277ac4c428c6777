"""Collaborative filtering: implicit-feedback ALS (the ``implicit`` library) over who bought what.

Only item factors are kept from training; a shopper's factor is solved at request time
from their own purchases (the same closed form ALS uses for a user step), so a customer
who ordered after training, or one absent from it, is served without retraining.  The
reason names the customer's purchase whose item factor is closest to the suggestion:
the product of theirs that most drives the score.
"""

from __future__ import annotations

import numpy as np

from assistant.recommend.base import Candidate, Context, top

MIN_PRODUCTS = 2  # a single purchase says too little for a collaborative guess


def user_factor(context: Context) -> tuple[np.ndarray, list[int]] | None:
    factors = context.model.item_factors
    if factors is None:
        return None
    counts: dict[int, int] = {}
    for product_id, moments in context.profile.bought.items():
        if (row := context.catalog.row_of.get(product_id)) is not None:
            counts[row] = len(moments)
    if len(counts) < MIN_PRODUCTS:
        return None
    rows = list(counts)
    confidence = context.model.als.alpha * np.log1p(np.array([counts[row] for row in rows], dtype=np.float32))
    mine = factors[rows]
    gram = factors.T @ factors + context.model.als.regularization * np.eye(factors.shape[1], dtype=np.float32)
    gram += (mine.T * (confidence - 1.0)) @ mine
    return np.linalg.solve(gram, mine.T @ confidence), rows


def recommend(context: Context, limit: int) -> list[Candidate]:
    solved = user_factor(context)
    if solved is None:
        return []
    user, rows = solved
    factors = context.model.item_factors
    assert factors is not None
    scores = factors @ user
    scores[rows] = 0.0
    chosen = top(scores, limit)
    if not chosen:
        return []
    mine = factors[rows]
    closeness = (factors[chosen] @ mine.T) / (
        np.linalg.norm(factors[chosen], axis=1, keepdims=True) * np.linalg.norm(mine, axis=1) + 1e-9
    )
    catalog = context.catalog
    return [
        Candidate(
            row,
            float(scores[row]),
            f"shoppers who bought the {catalog.products[rows[int(closeness[i].argmax())]]['title']} also liked this",
        )
        for i, row in enumerate(chosen)
    ]
