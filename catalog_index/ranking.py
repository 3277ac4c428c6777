"""Small score adjustments on top of the fused relevance score, and the shared tokenizer."""

from __future__ import annotations

import re

import numpy as np

LOW_PRICE_BOOST = 0.1  # "cheap"/"budget": the cheapest candidate gains this much, the dearest none

_TOKEN = re.compile(r"[a-z0-9]+(?:[-_.][a-z0-9]+)*")


def tokens(text: str) -> list[str]:
    """Lower-case word and code tokens; hyphenated codes such as ``nk-airz-red`` stay whole."""
    return _TOKEN.findall(text.lower())


def low_price_boost(prices: np.ndarray) -> np.ndarray:
    """Per-candidate boost falling linearly from the cheapest to the dearest candidate."""
    boost = np.zeros(len(prices), dtype=np.float64)
    priced = ~np.isnan(prices)
    if priced.sum() > 1:
        low, high = np.nanmin(prices), np.nanmax(prices)
        if high > low:
            boost[priced] = LOW_PRICE_BOOST * (high - prices[priced]) / (high - low)
    return boost
