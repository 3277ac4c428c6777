"""Hard search filters and the precomputed per-attribute row sets that evaluate them.

Filters are hard: a shopper who said "under $50" must never see a $60 product, even
when that means fewer results.  Evaluating them as numpy masks over the whole catalog
before the vector search (instead of post-filtering a fixed top-k) is what lets the
searcher know how many products pass and never come back short when enough exist.
Within one attribute the values are alternatives (red or blue); attributes combine with AND.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np

from catalog_index.colors import canonical_color, color_keys
from catalog_index.query import ParsedQuery, number_variants
from catalog_index.schema import Product, in_stock, size_key


@dataclass
class SearchFilters:
    """Constraints every returned product must meet; ``None`` / empty means unconstrained."""

    price_min: float | None = None
    price_max: float | None = None
    colors: list[str] = field(default_factory=list)
    brands: list[str] = field(default_factory=list)
    sizes: list[str] = field(default_factory=list)
    category: str | None = None  # matches a product's category or subcategory
    in_stock: bool = False
    exclude_ids: list[str] = field(default_factory=list)

    @classmethod
    def from_parsed(cls, parsed: ParsedQuery) -> SearchFilters:
        """The hard constraints a parsed query carries."""
        return cls(
            price_min=parsed.price_min, price_max=parsed.price_max, colors=list(parsed.colors),
            brands=list(parsed.brands), sizes=list(parsed.sizes), category=parsed.category, in_stock=parsed.in_stock,
        )

    def overridden_by(self, newer: SearchFilters) -> SearchFilters:
        """These filters (e.g. from conversation slots) with every constraint ``newer`` sets taking over.

        The newest utterance wins per attribute, so "under 100" after "under 50" loosens the
        bound instead of intersecting to nothing; excluded ids accumulate.
        """
        merged = SearchFilters()
        for item in fields(self):
            if item.name == "exclude_ids":
                continue
            new_value = getattr(newer, item.name)
            setattr(merged, item.name, new_value if new_value not in (None, [], False) else getattr(self, item.name))
        merged.exclude_ids = list(dict.fromkeys([*self.exclude_ids, *newer.exclude_ids]))
        return merged

    def to_dict(self) -> dict[str, Any]:
        """Only the constraints in force, for replies, logs and ``--json`` output."""
        return {item.name: getattr(self, item.name) for item in fields(self) if getattr(self, item.name) not in (None, [], False)}


def _rows_by_key(keyed_rows: Iterable[tuple[str, int]]) -> dict[str, np.ndarray]:
    grouped: dict[str, list[int]] = defaultdict(list)
    for key, row in keyed_rows:
        grouped[key].append(row)
    return {key: np.unique(np.array(rows, dtype=np.int64)) for key, rows in grouped.items()}


class FilterIndex:
    """Product attributes laid out for fast masks: one array or inverted list per attribute."""

    def __init__(self, products: Sequence[Product]) -> None:
        self.count = len(products)
        self.prices = np.array([np.nan if (price := p.get("price")) is None else float(price) for p in products], dtype=np.float64)
        self.in_stock = np.array([in_stock(p) for p in products], dtype=bool)
        self.row_of = {p["id"]: row for row, p in enumerate(products)}
        self.colors = _rows_by_key((key, row) for row, p in enumerate(products) for key in color_keys(p.get("color")))
        self.brands = _rows_by_key((brand.lower(), row) for row, p in enumerate(products) if (brand := p.get("brand")))
        self.sizes = _rows_by_key((size_key(size), row) for row, p in enumerate(products) for size in p.get("sizes") or [])
        self.categories = _rows_by_key(
            (name.lower(), row) for row, p in enumerate(products) for name in (p.get("category"), p.get("subcategory")) if name
        )

    def _any_of(self, table: dict[str, np.ndarray], keys: Iterable[str]) -> np.ndarray:
        mask = np.zeros(self.count, dtype=bool)
        for key in keys:
            rows = table.get(key)
            if rows is not None:
                mask[rows] = True
        return mask

    def mask(self, filters: SearchFilters | None) -> np.ndarray:
        """Boolean array over rows: ``True`` where the product meets every constraint."""
        mask = np.ones(self.count, dtype=bool)
        if filters is None:
            return mask
        with np.errstate(invalid="ignore"):  # unpriced products (NaN) fail any price bound
            if filters.price_min is not None:
                mask &= self.prices >= filters.price_min
            if filters.price_max is not None:
                mask &= self.prices <= filters.price_max
        if filters.colors:
            mask &= self._any_of(self.colors, (canonical_color(color) for color in filters.colors))
        if filters.brands:
            mask &= self._any_of(self.brands, (brand.lower() for brand in filters.brands))
        if filters.sizes:
            mask &= self._any_of(self.sizes, (size_key(size) for size in filters.sizes))
        if filters.category:
            mask &= self._any_of(self.categories, number_variants(filters.category.lower().strip()))
        if filters.in_stock:
            mask &= self.in_stock
        excluded = [self.row_of[product_id] for product_id in filters.exclude_ids if product_id in self.row_of]
        mask[excluded] = False
        return mask
