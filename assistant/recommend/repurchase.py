"""Buy again: the backbone of a repeat shopper's list, with restock timing reordering it.

``frequency`` is the plain baseline (most-bought first).  ``again`` is what the blend uses:
for each product the customer bought, the recency-weighted share of their orders that held
it (each older order counts ``decay`` times the next newer one), which estimates how likely
their next order holds it again.  Restock timing reorders within that: a product whose cycle
(their own median gap between purchases, else the store's for that product) is about over
goes before an equally likely one just bought, and one long overdue fades (they may have
switched); by ``timing`` it also scales the score (the validation splits chose 0: it then
orders equally likely products only).
Only products that come back at all are offered: ones this customer bought on two trips,
or that the store's other buyers rebuy (a consumable, learned from the data by :mod:`.model`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from assistant.recommend.base import Candidate, Context, days
from assistant.recommend.model import trips

TIME_TO_RESTOCK = 0.9  # share of the cycle from which the reason says it is time
GIVEN_UP = 3.0  # cycles overdue after which the shopper has probably switched: the score fades


@dataclass(frozen=True)
class AgainConfig:
    """How the buy-again list is scored (chosen by ``bench/recommend_bench.py`` on validation splits)."""

    decay: float = 0.9  # weight of an order relative to the next newer one
    timing: float = 0.0  # 0: restock timing only orders equally likely products; 1: it can double or zero a score


DEFAULT_AGAIN = AgainConfig()


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


def _order_weights(context: Context, decay: float) -> tuple[dict[int, float], float]:
    """Each order's weight (newest 1, then ``decay``, ``decay**2``...) and their sum."""
    newest_first = sorted({(line.at, line.order_id) for line in context.profile.lines}, reverse=True)
    weights = {order_id: decay**age for age, (_, order_id) in enumerate(newest_first)}
    return weights, sum(weights.values())


def again(context: Context, limit: int, config: AgainConfig = DEFAULT_AGAIN) -> list[Candidate]:
    """Products the customer may buy again, scored as the chance their next order holds each, best first."""
    catalog, profile = context.catalog, context.profile
    weights, total = _order_weights(context, config.decay)
    if not total:
        return []
    held: dict[str, float] = {}
    for line in profile.lines:
        held[line.product_id] = held.get(line.product_id, 0.0) + weights[line.order_id]
    now = profile.as_of.timestamp()
    found = []
    for product_id, moments in profile.bought.items():
        row = catalog.row_of.get(product_id)
        if row is None:
            continue
        stamps = [moment.timestamp() for moment in moments]
        own_repeats = len(trips(stamps)) > 1
        if not own_repeats and not context.model.is_consumable(row):
            continue
        chance = held[product_id] / total
        cycle = cycle_of(context, row, stamps)
        since = days(now - max(stamps))
        progress = since / cycle[0] if cycle and cycle[0] > 0 else None
        due = 0.5 if progress is None else min(progress, 1.0) * math.exp(-max(progress - GIVEN_UP, 0.0))
        chance *= (1.0 - config.timing) + 2.0 * config.timing * due
        found.append((Candidate(row, chance, _reason(catalog.title(product_id), len(moments), since, cycle, progress)), due))
    found.sort(key=lambda pair: (-pair[0].score, -pair[1], pair[0].row))  # equally likely: the more due first
    return [candidate for candidate, _ in found[:limit]]


def _reason(title: str, count: int, since: float, cycle: tuple[float, bool] | None, progress: float | None) -> str:
    if cycle is None or progress is None or progress < TIME_TO_RESTOCK:
        return f"you've bought the {title} {_times(count)}"
    if cycle[1]:
        return f"time to restock the {title}? You buy it about every {round(cycle[0])} days"
    return f"time to restock the {title}? You bought it {round(since)} days ago; shoppers restock about every {round(cycle[0])} days"


def _times(count: int) -> str:
    return "once" if count == 1 else "twice" if count == 2 else f"{count} times"
