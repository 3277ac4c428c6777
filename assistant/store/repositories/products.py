"""The store's product mirror: which products orders, carts and events may name, kept in step with the catalog.

The catalog file stays the source of truth; the mirror exists so orders, carts and
events can reference products by foreign key and join on title, brand and price.
A product that leaves the catalog is never deleted from the mirror, because old orders,
carts and events still point at it: it is marked ``"available": false`` in its payload
instead, and coming back to the catalog makes it available again (its payload is replaced).
``catalog import``/``upsert``/``delete`` keep the mirror in step; ``catalog sync-store``
catches it up after the store was unreachable.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from assistant.store.models import Product
from assistant.store.upsert import BATCH_SIZE, upsert_rows
from catalog_index.schema import Product as CatalogProduct

MIRRORED_FIELDS = ("title", "brand", "category", "subcategory", "price", "currency", "payload")
AVAILABLE = "available"  # payload key set to False on a product that left the catalog


def _product_row(product: CatalogProduct, where: str) -> dict[str, Any]:
    if not product.get("id") or not product.get("title"):
        raise ValueError(f"{where}: a product needs an id and a title")
    price = product.get("price")
    return {
        "id": str(product["id"]),
        "title": product["title"],
        "brand": product.get("brand"),
        "category": product.get("category"),
        "subcategory": product.get("subcategory"),
        "price": None if price is None else float(price),
        "currency": product.get("currency"),
        "payload": dict(product),
    }


def _catalog_rows(catalog_path: Path, seen: set[str]) -> Iterator[dict[str, Any]]:
    """The mirror rows of a catalog file, adding each id to ``seen`` as it goes (one pass over a large file)."""
    with catalog_path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            if line.strip():
                row = _product_row(json.loads(line), f"{catalog_path}:{number}")
                seen.add(row["id"])
                yield row


class ProductRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, product_id: str) -> Product | None:
        return self.session.get(Product, product_id)

    def known(self, product_ids: Iterable[str]) -> set[str]:
        """The given ids that the mirror holds (events and cart lines may only name these)."""
        wanted = set(product_ids)
        if not wanted:
            return set()
        return set(self.session.scalars(select(Product.id).where(Product.id.in_(wanted))))

    def mirror(self, products: Iterable[CatalogProduct]) -> int:
        """Insert or update these catalog products (available again if they had been withdrawn); returns how many."""
        rows = (_product_row(product, f"product {product.get('id')!r}") for product in products)
        return upsert_rows(self.session, Product.__table__, rows, ["id"], MIRRORED_FIELDS)

    def withdraw(self, product_ids: Iterable[str]) -> int:
        """Mark products that left the catalog unavailable, keeping their rows; returns how many changed.

        Ids the mirror does not hold are ignored: there is nothing for history to point at.
        """
        ids = list(dict.fromkeys(product_ids))
        changed = 0
        for start in range(0, len(ids), BATCH_SIZE):
            batch = select(Product).where(Product.id.in_(ids[start : start + BATCH_SIZE]))
            for product in self.session.scalars(batch.execution_options(populate_existing=True)):  # after a Core upsert
                if (product.payload or {}).get(AVAILABLE, True):
                    product.payload = {**(product.payload or {}), AVAILABLE: False}
                    changed += 1
        self.session.flush()
        return changed

    def mirror_catalog(self, catalog_path: Path | str) -> int:
        """Make the mirror match the whole catalog: upsert every product, withdraw those no longer in it.

        Returns how many catalog products were written.
        """
        in_catalog: set[str] = set()
        rows = _catalog_rows(Path(catalog_path), in_catalog)
        written = upsert_rows(self.session, Product.__table__, rows, ["id"], MIRRORED_FIELDS)
        self.withdraw(set(self.session.scalars(select(Product.id))) - in_catalog)
        return written
