"""The customer's own purchases: how often they buy each product, and which consumables are due.

``frequency`` is the plain baseline (most-bought first).  ``due`` is what the blend uses:
a product the customer bought before comes back only when it is a consumable (by their own
repeats, or by the store's other buyers) and its cycle is nearly over, scored highest around
the day it is due and fading once it is long overdue (they may have switched).
"""

from __future__ import annotations

import math

import numpy as np

from assistant.recommend.base import Candidate, Context, days
from assistant.recommend.model import trips

DUE_FROM = 0.5  # share of the cycle after which a restock may be suggested (chosen on the validation split)
TIME_TO_RESTOCK = 0.9  # from here on the reason says it is time
GIVEN_UP = 3.0  # cycles overdue after which the shopper has probably switched: the score fades


def cycle_of(context: Context, row: int, moments: list[float]) -> tuple[float, bool] | None:
    """``(days, own)``: the customer's own median gap between purchases, else the store's cycle for a consumable."""
    visits = trips(moments)
    if len(visits) > 1:
        return days(float(np.median(np.diff(visits)))), True
    return None if not context.model.is_consumable(row) else (float(context.model.cycle_days[row]), False)


def frequency(context: Context, limit: int) -> list[Candidate]:
    """Everything the customer bought, most orders first, then most recent."""
    catalog = context.catalog
    ranked = []
    for product_id, moments in context.profile.bought.items():
        row = catalog.row_of.get(product_id)
        if row is not None:
            ranked.append((len(moments), max(moments).timestamp(), row, product_id))
    ranked.sort(key=lambda item: (-item[0], -item[1], item[2]))
    return [
        Candidate(row, float(count), f"you've bought the {catalog.title(pid)} {_times(count)}")
        for count, _, row, pid in ranked[:limit]
    ]


def due(context: Context, limit: int) -> list[Candidate]:
    """Consumables the customer buys whose cycle is (nearly) over, most due first."""
    catalog, now = context.catalog, context.profile.as_of.timestamp()
    found = []
    for product_id, moments in context.profile.bought.items():
        row = catalog.row_of.get(product_id)
        if row is None:
            continue
        stamps = [moment.timestamp() for moment in moments]
        found_cycle = cycle_of(context, row, stamps)
        if not found_cycle or found_cycle[0] <= 0:
            continue
        cycle, own = found_cycle
        since = days(now - max(stamps))
        progress = since / cycle
        if progress < DUE_FROM:
            continue
        score = math.log1p(len(stamps)) * min(progress, 1.0) * math.exp(-max(progress - GIVEN_UP, 0.0))
        title = catalog.title(product_id)
        ask = f"time to restock the {title}?" if progress >= TIME_TO_RESTOCK else f"running low on the {title}?"
        reason = (
            f"{ask} You buy it about every {round(cycle)} days" if own
            else f"{ask} You bought it {round(since)} days ago; shoppers restock about every {round(cycle)} days"
        )
        found.append(Candidate(row, score, reason))
    found.sort(key=lambda c: (-c.score, c.row))
    return found[:limit]


def due_rows(context: Context) -> set[int]:
    """Rows the customer owns that may be suggested again (consumables due for a restock)."""
    return {candidate.row for candidate in due(context, len(context.profile.bought) or 1)}


def _times(count: int) -> str:
    return "once" if count == 1 else "twice" if count == 2 else f"{count} times"
