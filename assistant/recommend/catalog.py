"""The catalog as the recommenders see it: products by row, and their embedding vectors.

Rows follow the catalog index, so a product's row is also its row in the FAISS index and
content similarity is a matrix product with the vectors the search already built.  Loading
needs no embedding model: the vectors are read back from ``index.faiss``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from catalog_index.artifacts import IDS_FILE, INDEX_FILE, PRODUCTS_FILE, Manifest
from catalog_index.importer import read_catalog
from catalog_index.schema import in_stock


@dataclass
class Catalog:
    """Products in index row order, with the arrays the business rules filter on."""

    products: list[dict[str, Any]]
    vectors: np.ndarray | None = None  # (rows, dimension), unit length; None: no content similarity
    key: str = ""  # identifies the indexed catalog: trained tables are only valid for the same rows
    row_of: dict[str, int] = field(init=False)
    prices: np.ndarray = field(init=False)
    stocked: np.ndarray = field(init=False)
    categories: list[str] = field(init=False)

    def __post_init__(self) -> None:
        self.row_of = {product["id"]: row for row, product in enumerate(self.products)}
        self.prices = np.array([np.nan if p.get("price") is None else float(p["price"]) for p in self.products])
        self.stocked = np.array([in_stock(p) for p in self.products], dtype=bool)
        self.categories = [str(p.get("category") or p.get("subcategory") or "our catalog") for p in self.products]

    def __len__(self) -> int:
        return len(self.products)

    def get(self, product_id: str) -> dict[str, Any] | None:
        row = self.row_of.get(product_id)
        return None if row is None else self.products[row]

    def title(self, product_id: str) -> str:
        row = self.row_of.get(product_id)
        return self.products[row]["title"] if row is not None else product_id

    @classmethod
    def from_index(cls, index_dir: Path) -> Catalog:
        """Products and vectors of a built catalog index (``IndexUnavailable`` handling is the caller's)."""
        index_dir = Path(index_dir)
        manifest = Manifest.read(index_dir)
        products = read_catalog(index_dir / PRODUCTS_FILE)
        ids = json.loads((index_dir / IDS_FILE).read_text())
        if ids != [product["id"] for product in products]:
            raise ValueError(f"{index_dir}: {IDS_FILE} does not match {PRODUCTS_FILE}; rebuild the index")
        index = faiss.read_index(str(index_dir / INDEX_FILE))
        vectors = np.vstack([index.reconstruct(row) for row in range(index.ntotal)]) if index.ntotal else None
        return cls(products, vectors, key=f"{manifest.catalog_sha256}:{manifest.index_sha256}")
