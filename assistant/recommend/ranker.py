"""A per-store learned ranker for discovery: which never-bought product will the shopper's next order hold?

The backbones and lifts of :mod:`.blend` are one fixed formula for every store; on a store
where plain popularity is already a strong guess (a small assortment, Groceries) no lift
helped.  This ranker learns the combination on the store's own history instead: each
candidate (anything the discovery sources propose: popularity, new finds, the shopper's
departments, co-purchase, content neighbours) is described by

- ``popularity`` (recency-weighted buyers), ``recent`` (buyers in the trending window),
  ``new_finds`` (the adoption table): log counts from the trained tables, known for every product;
- ``aisles``, ``departments``, ``brands``: the shopper's share of attention in the product's
  subcategory, category and brand (:func:`.affinity.shares`, exact for every product; the
  first two as ``log(SMOOTHING + share)``, so a department never visited is a fixed penalty),
  separate so a store whose subcategories say more than its categories can weigh them so;
- ``co_purchase``, ``content``: the product's rank in that source's list for this
  shopper (``LIFT_K / (LIFT_K + rank - 1)``, 0 when it is not in the list), and
  ``co_purchase_score`` the log of its co-purchase score.

and a conditional logit over each shopper's candidates (L2, fitted by Newton's method in numpy,
:func:`fit`) gives the chance that the product is one of the held-out order's new products.  Popularity is one of
the features, so on the store's own history the ranker can always fall back to ordering by
it; :mod:`.calibrate` fits it at each retrain on the store's own orders and serves it only
when it beats plain popularity there on shoppers it was not fitted on.

A product's reason is that of the source whose feature raised its score most among the
lists that proposed it, so a reason is always one its recommender really gave.

ALS is not a feature: its coefficient was 0.01-0.07 on every benchmark store, and its lists
and factorization were a large part of a calibration's cost (``bench/README.md``, round 5).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from assistant.recommend import affinity
from assistant.recommend.base import Candidate, Context

FEATURES = (
    "popularity", "recent", "new_finds", "aisles", "departments", "brands", "co_purchase", "co_purchase_score", "content",
)
SOURCE_OF = {  # the list whose reason a feature's lift is explained by
    "popularity": "popular", "recent": "popular", "new_finds": "new_finds",
    "aisles": "affinity", "departments": "affinity", "brands": "affinity",
    "co_purchase": "co_purchase", "co_purchase_score": "co_purchase", "content": "content",
}
CANDIDATE_SOURCES = ("popular", "new_finds", "affinity", "co_purchase", "content")
LIFT_K = 10.0
L2 = 1.0  # ridge on the standardized coefficients
NEWTON_STEPS = 25


def _rank_feature(candidates: list[Candidate], rows: np.ndarray) -> np.ndarray:
    rank = {c.row: i for i, c in enumerate(candidates, 1)}
    return np.array([LIFT_K / (LIFT_K + rank[row] - 1) if row in rank else 0.0 for row in rows.tolist()])


def candidates(lists: dict[str, list[Candidate]], skip: set[int]) -> np.ndarray:
    """Rows any discovery source proposes, the shopper's own products left out (sorted, so results are stable)."""
    rows = {c.row for name in CANDIDATE_SOURCES for c in lists.get(name, ())} - skip
    return np.array(sorted(rows), dtype=np.int64)


def features(context: Context, lists: dict[str, list[Candidate]], rows: np.ndarray) -> np.ndarray:
    """``(len(rows), len(FEATURES))`` for one shopper (column order of :data:`FEATURES`)."""
    model = context.model
    share = affinity.shares(context)
    mine = share[rows] if share is not None else np.zeros((len(rows), 3))
    co_score = {c.row: c.score for c in lists.get("co_purchase", ())}
    return np.column_stack([
        np.log1p(model.popularity[rows]), np.log1p(model.trending[rows]), np.log1p(model.adoption[rows]),
        np.log(affinity.SMOOTHING + mine[:, 0]), np.log(affinity.SMOOTHING + mine[:, 1]), np.log1p(mine[:, 2]),
        _rank_feature(lists.get("co_purchase", []), rows),
        np.log1p(np.array([co_score.get(row, 0.0) for row in rows.tolist()])),
        _rank_feature(lists.get("content", []), rows),
    ]) if len(rows) else np.zeros((0, len(FEATURES)))


@dataclass(frozen=True)
class Ranker:
    """Standardization and coefficients of the fitted regression (plain floats: stored as JSON in the tables' meta)."""

    mean: tuple[float, ...]
    scale: tuple[float, ...]
    coef: tuple[float, ...]
    names: tuple[str, ...] = FEATURES

    def logits(self, x: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        standardized = (x - np.array(self.mean)) / np.array(self.scale)
        return np.asarray(standardized @ np.array(self.coef), dtype=np.float64)

    def rank(self, context: Context, lists: dict[str, list[Candidate]], skip: set[int]) -> list[tuple[Candidate, str]]:
        """``(candidate, source)`` best first, scored by each product's chance relative to the first's (1 for the
        first), with the reason of the proposing source whose feature lifted it most."""
        rows = candidates(lists, skip)
        if not len(rows):
            return []
        x = features(context, lists, rows)
        logits = self.logits(x)
        chance = np.exp(logits - logits.max())
        lift = (x - np.array(self.mean)) / np.array(self.scale) * np.array(self.coef)  # each feature's share of the logit
        by_source = {name: {c.row: c for c in lists.get(name, ())} for name in CANDIDATE_SOURCES}
        order = np.lexsort((rows, -chance))
        ranked = []
        for i in order.tolist():
            row = int(rows[i])
            proposing = [(lift[i, j], SOURCE_OF[name]) for j, name in enumerate(self.names) if row in by_source[SOURCE_OF[name]]]
            if not proposing:  # proposed only by a list no feature names (cannot happen with CANDIDATE_SOURCES)
                proposing = [(0.0, name) for name in CANDIDATE_SOURCES if row in by_source[name]]
            source = max(proposing, key=lambda pair: pair[0])[1]
            ranked.append((Candidate(row, float(chance[i]), by_source[source][row].reason), source))
        return ranked

    def to_json(self) -> dict[str, Any]:
        return {"features": list(self.names), "mean": list(self.mean), "scale": list(self.scale), "coef": list(self.coef)}

    @classmethod
    def from_json(cls, stored: object) -> Ranker | None:
        """The stored ranker, or None when absent or not one this code computes the features of (then it is not trusted)."""
        if not isinstance(stored, dict) or stored.get("features") != list(FEATURES):
            return None
        try:
            parts = [tuple(float(v) for v in stored[key]) for key in ("mean", "scale", "coef")]
        except (KeyError, TypeError, ValueError):
            return None
        if any(len(part) != len(FEATURES) for part in parts) or not all(math.isfinite(v) for part in parts for v in part):
            return None
        if min(parts[1]) <= 0:
            return None
        return cls(parts[0], parts[1], parts[2])


def fit(x: np.ndarray, chosen: np.ndarray, groups: np.ndarray, l2: float = L2) -> Ranker:
    """A conditional logit over each shopper's candidates (``groups``: one id per row, rows of a shopper together):
    each product of the held-out order is a choice among that shopper's candidates.  Only the order within a
    shopper matters to a list, so the fit compares products within a shopper, never across shoppers.
    Newton's method with step halving on standardized features (a handful: each step is one small linear solve;
    the halving keeps it from overshooting when a feature nearly separates the choices)."""
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale < 1e-9] = 1.0
    z = (x - mean) / scale
    starts = np.flatnonzero(np.r_[True, groups[1:] != groups[:-1]])
    sizes = np.diff(np.r_[starts, len(z)])
    picks = np.add.reduceat(chosen, starts)  # products chosen per shopper

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        s = z @ w
        top = np.maximum.reduceat(s, starts)
        e = np.exp(s - np.repeat(top, sizes))
        total = np.add.reduceat(e, starts)
        value = float((picks * (top + np.log(total))).sum() - (s * chosen).sum() + 0.5 * l2 * w @ w)
        return value, e / np.repeat(total, sizes)

    w = np.zeros(z.shape[1])
    current, p = loss(w)
    for _ in range(NEWTON_STEPS):
        expected = np.add.reduceat(z * p[:, None], starts)  # (shoppers, features)
        gradient = (expected * picks[:, None]).sum(axis=0) - (z * chosen[:, None]).sum(axis=0) + l2 * w
        hessian = (z * (p * np.repeat(picks, sizes))[:, None]).T @ z - (expected * picks[:, None]).T @ expected + l2 * np.eye(len(w))
        step = np.linalg.solve(hessian, gradient)
        for _ in range(30):
            value, q = loss(w - step)
            if value <= current:
                break
            step = step / 2
        else:
            break
        w, current, p = w - step, value, q
        if np.abs(step).max() < 1e-6:
            break
    return Ranker(tuple(mean.tolist()), tuple(scale.tolist()), tuple(w.tolist()))
