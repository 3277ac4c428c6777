"""Small score adjustments on top of the fused relevance score, and the shared tokenizer."""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

LOW_PRICE_BOOST = 0.1  # "cheap"/"budget": the cheapest candidate gains this much, the dearest none

_TOKEN = re.compile(r"[a-z0-9]+(?:[-_.][a-z0-9]+)*")


def tokens(text: str) -> list[str]:
    """Lower-case word and code tokens; hyphenated codes such as ``nk-airz-red`` stay whole."""
    return _TOKEN.findall(text.lower())


def adjacent_pairs(terms: Sequence[str]) -> set[tuple[str, str]]:
    """Each term with the one after it: the phrases a short text is made of."""
    return set(zip(terms, terms[1:], strict=False))


def phrase_share(query_pairs: set[tuple[str, str]], title_terms: Sequence[str]) -> float:
    """The share of the query's adjacent term pairs that also stand together in the title (0 without pairs)."""
    if not query_pairs:
        return 0.0
    return len(query_pairs & adjacent_pairs(title_terms)) / len(query_pairs)


def low_price_boost(prices: np.ndarray) -> np.ndarray:
    """Per-candidate boost falling linearly from the cheapest to the dearest candidate."""
    boost = np.zeros(len(prices), dtype=np.float64)
    priced = ~np.isnan(prices)
    if priced.sum() > 1:
        low, high = np.nanmin(prices), np.nanmax(prices)
        if high > low:
            boost[priced] = LOW_PRICE_BOOST * (high - prices[priced]) / (high - low)
    return boost
