"""Ranking quality of one list against one held-out order: shared by the store's own calibration
(:mod:`.calibrate`) and the offline benchmark (``bench/recommend_quality.py``), so both judge alike."""

from __future__ import annotations

import math

import numpy as np

K = 10
BOOTSTRAP = 2000


def ndcg(ranked: list[int], target: set[int], k: int = K) -> float:
    """Binary-gain NDCG@k of ``ranked`` rows against the ``target`` rows (0 when there is no target)."""
    gains = sum(1.0 / math.log2(rank + 2) for rank, row in enumerate(ranked[:k]) if row in target)
    ideal = sum(1.0 / math.log2(rank + 2) for rank in range(min(len(target), k)))
    return gains / ideal if ideal else 0.0


def hit_and_ndcg(ranked: list[int], target: set[int], owned: set[int], mode: str, k: int = K) -> tuple[float, float] | None:
    """``(hit, NDCG@k)`` of one shopper's list, or None when the mode does not apply to them.

    ``whole_order`` scores the list's first ``k`` against the whole held-out order;
    ``discovery`` drops the shopper's own past products (``owned``) from both the list and the
    order first, and applies only to a shopper whose order held something new to them.
    """
    if mode == "discovery":
        target = target - owned
        ranked = [row for row in ranked if row not in owned]
    if not target:
        return None
    top = ranked[:k]
    return float(any(row in target for row in top)), ndcg(top, target, k)


def paired_interval(ours: np.ndarray, theirs: np.ndarray, draws: int = BOOTSTRAP, seed: int = 7) -> tuple[float, float, float]:
    """Mean of ``ours - theirs`` (per-shopper values, same shoppers) and its paired bootstrap 95% interval.

    Shoppers are resampled with one draw shared by both lists, so a difference is judged by how
    consistently it holds across shoppers, not by how far apart two noisy means happen to be.
    """
    difference = np.asarray(ours, dtype=float) - np.asarray(theirs, dtype=float)
    picks = np.random.default_rng(seed).integers(0, len(difference), size=(draws, len(difference)))
    low, high = np.percentile(difference[picks].mean(axis=1), [2.5, 97.5])
    return float(difference.mean()), float(low), float(high)
