"""The generated demo store's order history, in the same shape as the public datasets.

Run ``python -m bench.datasets.demo``: generates the demo store (seed 42) into a scratch
folder and keeps its catalog (with stock and prices, as the demo shop has them) and its
delivered and shipped orders.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections import defaultdict
from datetime import datetime
from pathlib import Path

from assistant.demo_store import generate_demo_store
from bench.datasets.common import ROOT, Orders, sample_shoppers, write_shoppers

NAME = "demo"
CATALOG = "catalog.jsonl"


def derive(out: Path = ROOT / NAME, seed: int = 42) -> Path:
    with tempfile.TemporaryDirectory(prefix="demo-bench-") as scratch:
        generate_demo_store(Path(scratch), seed=seed)
        by_shopper: dict[str, Orders] = defaultdict(list)
        with (Path(scratch) / "history" / "orders.jsonl").open(encoding="utf-8") as handle:
            for line in handle:
                order = json.loads(line)
                if order["status"] != "cancelled" and order.get("items"):
                    at = datetime.fromisoformat(order["placed_at"].replace("Z", "+00:00"))
                    by_shopper[order["customer_id"]].append((at, [item["product_id"] for item in order["items"]]))
        out.mkdir(parents=True, exist_ok=True)
        shutil.copy(Path(scratch) / CATALOG, out / CATALOG)
    return write_shoppers(out, sample_shoppers(by_shopper, size=10**9))


if __name__ == "__main__":
    print(derive())
