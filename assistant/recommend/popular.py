"""Popularity, new finds and trending: what many shoppers bought (recently), for newcomers, discovery and to fill up.

Popularity counts distinct buyers, each weighted by how recently they bought (half-life in
:mod:`.model`); new finds count the returning shoppers who started buying a product after
their first trip, weighted the same way (the discovery backbone: what a shopper has not
bought yet is what others add to their habits); trending counts distinct buyers in the
last week (or month, when the week is quiet).  The reason states the real count, window and category.
"""

from __future__ import annotations

import numpy as np

from assistant.recommend.base import Candidate, Context, top


def _shoppers(count: float) -> str:
    return "1 shopper" if count == 1 else f"{int(count)} shoppers"


def popular(context: Context, limit: int, mask: np.ndarray | None = None) -> list[Candidate]:
    """Best sellers (among ``mask`` rows when given: the fill-up after the business rules)."""
    model, catalog = context.model, context.catalog
    scores = model.popularity if mask is None else np.where(mask, model.popularity, 0.0)
    return [
        Candidate(
            row, float(model.popularity[row]), f"a best seller in {catalog.categories[row]}: bought by {_shoppers(model.buyers[row])}"
        )
        for row in top(scores, limit)
    ]


def new_finds(context: Context, limit: int) -> list[Candidate]:
    """Products returning shoppers most often started buying (recency-weighted)."""
    model, catalog = context.model, context.catalog
    return [
        Candidate(
            row,
            float(model.adoption[row]),
            f"a popular new find in {catalog.categories[row]}: {_shoppers(model.newcomers[row])} started buying it after their first order",
        )
        for row in top(model.adoption, limit)
    ]


def trending(context: Context, limit: int) -> list[Candidate]:
    model, catalog = context.model, context.catalog
    window = "this week" if model.trending_days <= 7 else "this month"
    # ties in a short window are common: the long-run popularity breaks them
    scores = np.where(model.trending > 0, model.trending + model.popularity / (model.popularity.max() + 1.0), 0.0)
    return [
        Candidate(row, float(scores[row]), f"popular in {catalog.categories[row]} {window}: {_shoppers(model.trending[row])} bought it")
        for row in top(scores, limit)
    ]
