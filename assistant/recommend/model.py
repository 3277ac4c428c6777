"""The trained tables every recommender reads: popularity, trending, co-purchase, repeat cycles, ALS.

All of it is computed in one pass over the store's order lines (:func:`train`) and is a
function of those lines and the moment ``as_of`` only, so the offline evaluation trains
exactly this on the past of a time split.  Co-purchase similarity is cosine-normalized
with shrinkage (``c_ij / sqrt(c_i c_j) * c_ij / (c_ij + SHRINK)``), which keeps a best-seller
from being "bought together" with everything.  A product counts as a consumable when enough
of its buyers bought it again (or, with few buyers of its own, enough buyers of its
subcategory bought the same product again); its cycle is the median gap between their purchases.  That
is learned from the data, not read from a catalog field, so it works on any retailer's history.
"""

from __future__ import annotations

import logging
import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from scipy import sparse

from assistant.recommend.catalog import Catalog
from assistant.store.repositories.history import OrderLine

log = logging.getLogger(__name__)

DAY = 86_400.0
SHRINK = 3.0  # co-purchase pairs seen this many times count half
NEIGHBOURS = 50  # co-purchase partners kept per product
POPULARITY_HALF_LIFE_DAYS = 90.0
TRENDING_WINDOWS_DAYS = (7, 30)  # "this week" when the week has enough buyers, else "this month"
TRENDING_MIN_BUYERS = 20
CONSUMABLE_MIN_REPEATERS = 2
CONSUMABLE_MIN_BUYERS = 10  # fewer buyers than this: judge the product by its subcategory
CONSUMABLE_MIN_SHARE = 0.1  # share of a product's buyers who bought it again
MIN_GAP_DAYS = 2.0  # two orders closer than this are one shopping trip, not a cycle
ALS_MIN_CUSTOMERS = 50
ALS_MIN_LINES = 500


@dataclass(frozen=True)
class AlsConfig:
    """Chosen on the demo history's validation split (few factors suit a sparse history;
    a store with many more customers per product can afford more)."""

    factors: int = 8
    regularization: float = 0.1
    alpha: float = 10.0
    iterations: int = 20


DEFAULT_ALS = AlsConfig()


@dataclass
class Model:
    """Tables indexed by catalog row; ``item_factors`` is None while there is too little data for ALS."""

    as_of: datetime
    buyers: np.ndarray  # distinct buyers per product, all time
    popularity: np.ndarray  # distinct buyers, each weighted by how recently they bought
    newcomers: np.ndarray  # returning shoppers who first bought it on a later trip (product new to them), all time
    adoption: np.ndarray  # the same shoppers, each weighted by how recently they first bought it
    trending: np.ndarray  # distinct buyers within the trending window
    trending_days: int
    co_purchase: sparse.csr_matrix  # rows x rows, normalized, top NEIGHBOURS per row
    cycle_days: np.ndarray  # median repurchase gap; NaN when the product is not a consumable
    item_factors: np.ndarray | None
    als: AlsConfig

    def is_consumable(self, row: int) -> bool:
        return not np.isnan(self.cycle_days[row])


def _purchase_times(lines: list[OrderLine], catalog: Catalog) -> dict[tuple[str, int], list[float]]:
    """Purchase times (epoch seconds) per (customer, row), one per order."""
    times: dict[tuple[str, int], list[float]] = {}
    for line in lines:
        row = catalog.row_of.get(line.product_id)
        if row is not None:
            times.setdefault((line.customer_id, row), []).append(line.at.timestamp())
    return times


def _adoption(times: dict[tuple[str, int], list[float]], size: int, now: float) -> tuple[np.ndarray, np.ndarray]:
    """Per product, the returning shoppers who bought it for the first time after their first trip: plain and recency-weighted.

    What a shopper has not bought yet is best predicted by what other shoppers added to
    their habits, not by raw popularity: the staples everyone buys from day one are owned by
    almost every returning shopper already, so their sales say little about a new find.
    """
    first_trip: dict[str, float] = {}
    for (customer, _), moments in times.items():
        first_trip[customer] = min(first_trip.get(customer, math.inf), min(moments))
    newcomers, adoption = np.zeros(size), np.zeros(size)
    for (customer, row), moments in times.items():
        first = min(moments)
        if first - first_trip[customer] >= MIN_GAP_DAYS * DAY:
            newcomers[row] += 1
            adoption[row] += 0.5 ** ((now - first) / DAY / POPULARITY_HALF_LIFE_DAYS)
    return newcomers, adoption


def _co_purchase(lines: list[OrderLine], catalog: Catalog) -> sparse.csr_matrix:
    orders: dict[int, int] = {}
    rows, cols = [], []
    for line in lines:
        row = catalog.row_of.get(line.product_id)
        if row is not None:
            rows.append(orders.setdefault(line.order_id, len(orders)))
            cols.append(row)
    baskets = sparse.csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=(len(orders), len(catalog)))
    baskets.data[:] = 1.0  # duplicates summed by the constructor: presence only
    together = (baskets.T @ baskets).tocsr()
    together.setdiag(0)
    together.eliminate_zeros()
    counts = np.asarray(baskets.sum(axis=0)).ravel()
    coo = together.tocoo()
    norm = np.sqrt(counts[coo.row] * counts[coo.col])
    values = coo.data / norm * (coo.data / (coo.data + SHRINK))
    similar = sparse.csr_matrix((values, (coo.row, coo.col)), shape=together.shape)
    return _top_per_row(similar, NEIGHBOURS)


def _top_per_row(matrix: sparse.csr_matrix, keep: int) -> sparse.csr_matrix:
    data, indices, indptr = [], [], [0]
    for row in range(matrix.shape[0]):
        start, end = matrix.indptr[row], matrix.indptr[row + 1]
        values, cols = matrix.data[start:end], matrix.indices[start:end]
        if len(values) > keep:
            best = np.argpartition(-values, keep)[:keep]
            values, cols = values[best], cols[best]
        data.append(values)
        indices.append(cols)
        indptr.append(indptr[-1] + len(values))
    return sparse.csr_matrix(
        (np.concatenate(data) if data else [], np.concatenate(indices) if indices else [], indptr), shape=matrix.shape
    )


def _cycles(times: dict[tuple[str, int], list[float]], catalog: Catalog) -> np.ndarray:
    """Median repurchase gap per product; a product with too few buyers of its own takes its subcategory's."""
    size = len(catalog)
    groups = [str(p.get("subcategory") or p.get("category") or "") for p in catalog.products]
    gaps: dict[object, list[float]] = {}
    buyers: Counter[object] = Counter()
    repeaters: Counter[object] = Counter()
    for (_, row), moments in times.items():
        visits = trips(moments)
        for key in (row, ("group", groups[row])):
            buyers[key] += 1
            if len(visits) > 1:
                repeaters[key] += 1
                gaps.setdefault(key, []).extend(np.diff(visits) / DAY)

    def cycle(key: object) -> float | None:
        if repeaters[key] >= CONSUMABLE_MIN_REPEATERS and repeaters[key] >= CONSUMABLE_MIN_SHARE * buyers[key]:
            return float(np.median(gaps[key]))
        return None

    found = np.full(size, np.nan)
    for row in range(size):
        own = cycle(row) if buyers[row] >= CONSUMABLE_MIN_BUYERS else None
        value = own if own is not None else cycle(("group", groups[row])) if groups[row] else None
        if value is not None:
            found[row] = value
    return found


def trips(moments: list[float]) -> list[float]:
    """Purchase moments with those less than MIN_GAP_DAYS after the previous one merged."""
    trips: list[float] = []
    for moment in sorted(moments):
        if not trips or moment - trips[-1] >= MIN_GAP_DAYS * DAY:
            trips.append(moment)
    return trips


def _als(times: dict[tuple[str, int], list[float]], size: int, config: AlsConfig) -> np.ndarray | None:
    customers: dict[str, int] = {}
    rows, cols, values = [], [], []
    for (customer, row), moments in times.items():
        rows.append(customers.setdefault(customer, len(customers)))
        cols.append(row)
        values.append(np.log1p(len(moments)))
    if len(customers) < ALS_MIN_CUSTOMERS or len(values) < ALS_MIN_LINES:
        return None
    from implicit.cpu.als import AlternatingLeastSquares
    from threadpoolctl import threadpool_limits

    user_items = sparse.csr_matrix((np.array(values, dtype=np.float32) * config.alpha, (rows, cols)), shape=(len(customers), size))
    with threadpool_limits(1, "blas"):  # implicit's own threads do the work; nested BLAS threads only slow it
        model = AlternatingLeastSquares(
            factors=config.factors, regularization=config.regularization, alpha=1.0,
            iterations=config.iterations, random_state=7, calculate_training_loss=False,
        )
        model.fit(user_items, show_progress=False)
    return np.asarray(model.item_factors, dtype=np.float32)


def empty(size: int, as_of: datetime) -> Model:
    """Tables that know nothing yet: served while the first ones train (buy-again still works)."""
    zeros = np.zeros(size)
    return Model(
        as_of=as_of, buyers=zeros, popularity=zeros, newcomers=zeros, adoption=zeros,
        trending=zeros, trending_days=TRENDING_WINDOWS_DAYS[-1],
        co_purchase=sparse.csr_matrix((size, size), dtype=np.float32), cycle_days=np.full(size, np.nan),
        item_factors=None, als=DEFAULT_ALS,
    )


def train(lines: Iterable[OrderLine], catalog: Catalog, as_of: datetime, als: AlsConfig = DEFAULT_ALS, factorize: bool = True) -> Model:
    """Every table from the order lines placed before ``as_of``; ALS only with ``factorize`` (the store's own
    calibration, :mod:`.calibrate`, compares settings that do not read it and skips its cost)."""
    lines = [line for line in lines if line.at < as_of]
    times = _purchase_times(lines, catalog)
    size, now = len(catalog), as_of.timestamp()
    buyers, popularity = np.zeros(size), np.zeros(size)
    recent = {days: np.zeros(size) for days in TRENDING_WINDOWS_DAYS}
    for (_, row), moments in times.items():
        age_days = (now - max(moments)) / DAY
        buyers[row] += 1
        popularity[row] += 0.5 ** (age_days / POPULARITY_HALF_LIFE_DAYS)
        for days, counts in recent.items():
            counts[row] += age_days <= days
    trending_days = next((d for d in TRENDING_WINDOWS_DAYS if recent[d].sum() >= TRENDING_MIN_BUYERS), TRENDING_WINDOWS_DAYS[-1])
    newcomers, adoption = _adoption(times, size, now)
    model = Model(
        as_of=as_of, buyers=buyers, popularity=popularity, newcomers=newcomers, adoption=adoption,
        trending=recent[trending_days], trending_days=trending_days,
        co_purchase=_co_purchase(lines, catalog), cycle_days=_cycles(times, catalog),
        item_factors=_als(times, size, als) if factorize else None, als=als,
    )
    log.info("trained recommenders on %d order lines (%d products, ALS %s)", len(lines), size,
             "on" if model.item_factors is not None else "off")
    return model
