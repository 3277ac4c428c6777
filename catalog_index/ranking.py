"""Small score adjustments on top of dense similarity.

Embeddings blur exact identifiers: "NK-AIRZ-RED" or a product's exact name should come
first, and sentence embeddings alone do not guarantee it.  A light lexical boost fixes
that without a second index; BM25 fusion can later replace :func:`lexical_boost` here.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

EXACT_CODE_BOOST = 1.0  # a query token equals the product's SKU or id
EXACT_TITLE_BOOST = 0.5  # the whole query equals the title
TOKEN_OVERLAP_BOOST = 0.1  # times the share of query tokens found in title, brand or SKU
LOW_PRICE_BOOST = 0.1  # "cheap"/"budget": the cheapest candidate gains this much, the dearest none

_TOKEN = re.compile(r"[a-z0-9]+(?:[-_.][a-z0-9]+)*")


def tokens(text: str) -> list[str]:
    """Lower-case word and code tokens; hyphenated codes such as ``nk-airz-red`` stay whole."""
    return _TOKEN.findall(text.lower())


def _product_tokens(product: dict[str, Any]) -> set[str]:
    words: set[str] = set()
    for key in ("title", "brand", "sku"):
        value = product.get(key)
        if value:
            found = tokens(str(value))
            words.update(found)
            words.update(part for token in found for part in re.split(r"[-_.]", token))
    return words


def lexical_boost(query: str, product: dict[str, Any]) -> float:
    """Extra score for exact identifier, exact title and shared title/brand/SKU tokens."""
    query_tokens = tokens(query)
    if not query_tokens:
        return 0.0
    codes = {str(product.get(key)).lower() for key in ("sku", "id") if product.get(key)}
    if codes & set(query_tokens):
        return EXACT_CODE_BOOST
    if " ".join(query_tokens) == " ".join(tokens(product["title"])):
        return EXACT_TITLE_BOOST
    shared = set(query_tokens) & _product_tokens(product)
    return TOKEN_OVERLAP_BOOST * len(shared) / len(set(query_tokens))


def low_price_boost(prices: np.ndarray) -> np.ndarray:
    """Per-candidate boost falling linearly from the cheapest to the dearest candidate."""
    boost = np.zeros(len(prices), dtype=np.float64)
    priced = ~np.isnan(prices)
    if priced.sum() > 1:
        low, high = np.nanmin(prices), np.nanmax(prices)
        if high > low:
            boost[priced] = LOW_PRICE_BOOST * (high - prices[priced]) / (high - low)
    return boost
