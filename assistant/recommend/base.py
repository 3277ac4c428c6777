"""What every recommender takes and gives: a context in, scored candidates with reasons out."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from assistant.recommend.catalog import Catalog
from assistant.recommend.model import Model
from assistant.recommend.profile import Profile


@dataclass(frozen=True)
class Candidate:
    """A catalog row, how strongly one recommender wants it, and that recommender's true reason."""

    row: int
    score: float
    reason: str


@dataclass
class Context:
    model: Model
    catalog: Catalog
    profile: Profile


def top(scores: np.ndarray, limit: int) -> list[int]:
    """Rows of the ``limit`` highest positive scores, best first (ties by row, so results are stable)."""
    positive = np.flatnonzero(scores > 0)
    if len(positive) > limit:
        positive = positive[np.argpartition(-scores[positive], limit)[:limit]]
    return sorted(positive.tolist(), key=lambda row: (-scores[row], row))


def days(seconds: float) -> float:
    return seconds / 86_400.0
