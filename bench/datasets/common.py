"""What every dataset script shares: sampling shoppers with enough orders and writing the compact history."""

from __future__ import annotations

import csv
import json
import random
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

from assistant.settings import PROJECT_ROOT

ROOT = PROJECT_ROOT / "var" / "bench" / "recommend"
SHOPPERS_FILE = "shoppers.jsonl"
CATALOG_FILE = "catalog.csv"
MIN_ORDERS, MAX_ORDERS = 5, 99  # enough history for a validation and a test order, no bulk buyers
SAMPLE = 600
SEED = 7

Orders = list[tuple[datetime, list[str]]]


def sample_shoppers(
    orders_by_shopper: dict[str, Orders], size: int = SAMPLE, seed: int = SEED, min_orders: int = MIN_ORDERS
) -> dict[str, Orders]:
    """A seeded sample of the shoppers with ``min_orders`` to ``MAX_ORDERS`` orders, each order's products once."""
    eligible = sorted(cid for cid, orders in orders_by_shopper.items() if min_orders <= len(orders) <= MAX_ORDERS)
    chosen = random.Random(seed).sample(eligible, min(size, len(eligible)))
    return {
        cid: [(at, list(dict.fromkeys(items))) for at, items in sorted(orders_by_shopper[cid])] for cid in sorted(chosen)
    }


def write_shoppers(directory: Path, shoppers: dict[str, Orders]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / SHOPPERS_FILE
    with path.open("w", encoding="utf-8") as handle:
        for cid, orders in shoppers.items():
            record = {"customer": cid, "orders": [{"at": at.isoformat(), "products": items} for at, items in orders]}
            handle.write(json.dumps(record) + "\n")
    return path


def write_catalog(directory: Path, products: Iterable[dict[str, str]]) -> Path:
    """The bare export a shop gives: ``id, title, category, subcategory`` (no stock, no prices)."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / CATALOG_FILE
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["id", "title", "category", "subcategory"])
        writer.writeheader()
        writer.writerows(products)
    return path


def bought(shoppers: dict[str, Orders]) -> set[str]:
    return {pid for orders in shoppers.values() for _, items in orders for pid in items}
