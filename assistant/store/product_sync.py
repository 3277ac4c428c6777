"""Mirror the normalized catalog (``catalog.jsonl``) into the store's products table.

The catalog file stays the source of truth; the mirror exists so orders, carts and
events can reference products by foreign key and join on title, brand and price.
Products that left the catalog stay in the mirror because old orders still point at them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from assistant.store.models import Product
from assistant.store.upsert import upsert_rows

MIRRORED_FIELDS = ("title", "brand", "category", "subcategory", "price", "currency", "payload")


def _product_rows(catalog_path: Path) -> Iterator[dict[str, Any]]:
    with catalog_path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            product = json.loads(line)
            if not product.get("id") or not product.get("title"):
                raise ValueError(f"{catalog_path}:{number}: a product needs an id and a title")
            price = product.get("price")
            yield {
                "id": str(product["id"]),
                "title": product["title"],
                "brand": product.get("brand"),
                "category": product.get("category"),
                "subcategory": product.get("subcategory"),
                "price": None if price is None else float(price),
                "currency": product.get("currency"),
                "payload": product,
            }


def sync_products(session: Session, catalog_path: Path | str) -> int:
    """Insert or update every catalog product in the mirror; returns how many were written."""
    return upsert_rows(session, Product.__table__, _product_rows(Path(catalog_path)), ["id"], MIRRORED_FIELDS)
