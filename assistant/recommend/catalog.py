"""The catalog as the recommenders see it: products by row, and their embedding vectors.

It is built from the version the catalog searcher has loaded (``catalog_index`` stays the
only reader of the index files, with its checks), so after a ``catalog upsert`` or
``delete`` the next recommendation sees the new rows, prices and stock.  Rows follow the
index, so a product's row is also its FAISS row and content similarity is a matrix
product with the vectors the search already built.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import cached_property

import faiss
import numpy as np

from catalog_index.schema import Product
from catalog_index.search import CatalogSearcher, LoadedVersion


def rows_key(products: list[Product]) -> str:
    """Identifies the row order: trained tables are valid for any version with the same products in the same rows."""
    return hashlib.sha256("\n".join(str(p["id"]) for p in products).encode("utf-8")).hexdigest()


def sold_out(product: Product) -> bool:
    """Known to have no unit anywhere; a product without stock data is not sold out, only not promised."""
    stock = product.get("stock") or {}
    return bool(stock) and sum(stock.values()) <= 0


@dataclass
class Catalog:
    """Products in index row order, with the arrays the business rules filter on."""

    products: list[Product]
    vectors: np.ndarray | None = None  # (rows, dimension), unit length; None: no content similarity
    version: str = ""  # the index version these rows came from
    row_of: dict[str, int] = field(init=False)
    prices: np.ndarray = field(init=False)
    sold_out: np.ndarray = field(init=False)
    categories: list[str] = field(init=False)
    key: str = field(init=False)

    def __post_init__(self) -> None:
        self.row_of = {product["id"]: row for row, product in enumerate(self.products)}
        self.prices = np.array([np.nan if (price := p.get("price")) is None else float(price) for p in self.products])
        self.sold_out = np.array([sold_out(p) for p in self.products], dtype=bool)
        self.categories = [str(p.get("category") or p.get("subcategory") or "our catalog") for p in self.products]
        self.key = rows_key(self.products)

    def __len__(self) -> int:
        return len(self.products)

    @cached_property
    def facets(self) -> dict[str, tuple[np.ndarray, list[str]]]:
        """Per facet (subcategory, category, brand): each row's value code and the values ("" when absent), so a
        shopper's shares become one array lookup instead of a pass over the products (recommending, calibrating)."""
        found: dict[str, tuple[np.ndarray, list[str]]] = {}
        for facet in ("subcategory", "category", "brand"):
            codes: dict[str, int] = {}
            rows = [codes.setdefault(str(p.get(facet) or ""), len(codes)) for p in self.products]
            found[facet] = (np.array(rows, dtype=np.int64), list(codes))
        return found

    def get(self, product_id: str) -> Product | None:
        row = self.row_of.get(product_id)
        return None if row is None else self.products[row]

    def title(self, product_id: str) -> str:
        row = self.row_of.get(product_id)
        return self.products[row]["title"] if row is not None else product_id

    @classmethod
    def from_version(cls, loaded: LoadedVersion) -> Catalog:
        """The products and stored vectors of one loaded index version."""
        return cls(loaded.products, _vectors(loaded.index), version=loaded.key)

    @classmethod
    def from_searcher(cls, searcher: CatalogSearcher) -> Catalog:
        return cls.from_version(searcher.loaded_version())


def _vectors(index: faiss.Index) -> np.ndarray | None:
    if not index.ntotal:
        return None
    try:
        return np.asarray(index.reconstruct_n(0, index.ntotal), dtype=np.float32)
    except RuntimeError:  # an IVF index without its direct map: give a copy one (the searcher's is not ours to change)
        copy = faiss.clone_index(index)
        faiss.extract_index_ivf(copy).make_direct_map()
        return np.asarray(copy.reconstruct_n(0, copy.ntotal), dtype=np.float32)
