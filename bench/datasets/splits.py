"""A dataset's compact history turned into what a retailer imports, for one held-out order per shopper.

``holdout=1`` is the test split (each shopper's last order held out), ``holdout=2`` the
validation split (their second-to-last held out, the last unseen).  Each shopper's orders
are moved in time so that the held-out one falls ``today`` (as in a live store, where the
recommendation is asked now and the history ends before it); the files are the bare
order-lines export and a customers file with personalization consent, imported through the
real ``history import`` path.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from bench.datasets.common import SHOPPERS_FILE


@dataclass(frozen=True)
class Split:
    orders_file: Path
    customers_file: Path
    targets: dict[str, list[str]]  # customer -> products of the held-out order


def write_split(dataset_dir: Path, out: Path, holdout: int, today: datetime) -> Split:
    out.mkdir(parents=True, exist_ok=True)
    targets: dict[str, list[str]] = {}
    orders_file, customers_file = out / "orders.csv", out / "customers.csv"
    with (dataset_dir / SHOPPERS_FILE).open(encoding="utf-8") as source, \
            orders_file.open("w", encoding="utf-8", newline="") as orders, \
            customers_file.open("w", encoding="utf-8", newline="") as customers:
        lines = csv.writer(orders)
        lines.writerow(["order_id", "customer_id", "product_id", "quantity", "ordered_at"])
        people = csv.writer(customers)
        people.writerow(["id", "personalization_consent"])
        for record in map(json.loads, source):
            cid, history = record["customer"], record["orders"]
            target = history[-holdout]
            shift = today - datetime.fromisoformat(target["at"])
            targets[cid] = target["products"]
            people.writerow([cid, "yes"])
            for number, order in enumerate(history[:-holdout]):
                at = (datetime.fromisoformat(order["at"]) + shift).isoformat()
                for pid in order["products"]:
                    lines.writerow([f"{cid}-{number}", cid, pid, 1, at])
    (out / "split.json").write_text(json.dumps({"today": today.isoformat(), "holdout": holdout, "targets": targets}))
    return Split(orders_file, customers_file, targets)
