"""Groceries (Kaggle "Groceries dataset", heeraldedhia): real grocery purchases of 3,898 members, 2014-2015.

Source: ``Groceries_dataset.csv`` (``Member_number, Date, itemDescription``) as committed in
the public GitHub repository M01010100/CS_542_Project_Group2 (``data/Groceries_dataset.csv``);
the Kaggle page lists the data under GPL-2.0, so only this script is committed, not the data.
Run ``python -m bench.datasets.groceries --source FILE``.  An order is one member's purchases
of one day; the products are the 167 item descriptions (the id is the description
slugged; the export has no categories).  Every member with at least 3 orders is kept (2,860
of the 3,898: one order of history before the validation order), not a sample: the
differences between lists are small here and a figure on 600 shoppers is mostly noise.
"""

from __future__ import annotations

import argparse
import csv
import re
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

from bench.datasets.common import ROOT, Orders, bought, sample_shoppers, write_catalog, write_shoppers

NAME = "groceries"
MIN_ORDERS = 3  # the validation order needs one order of history before it


def product_id(description: str) -> str:
    return "G-" + re.sub(r"[^a-z0-9]+", "-", description.lower()).strip("-")


def derive(source: Path, out: Path = ROOT / NAME) -> Path:
    baskets: dict[tuple[str, datetime], list[str]] = defaultdict(list)
    titles: dict[str, str] = {}
    with source.open(encoding="utf-8-sig", newline="") as handle:
        for row in csv.DictReader(handle):
            day = datetime.strptime(row["Date"], "%d-%m-%Y").replace(hour=12, tzinfo=UTC)
            pid = product_id(row["itemDescription"])
            titles[pid] = row["itemDescription"].strip()
            baskets[(row["Member_number"].strip(), day)].append(pid)
    by_shopper: dict[str, Orders] = defaultdict(list)
    for (cid, day), items in baskets.items():
        by_shopper[cid].append((day, items))
    shoppers = sample_shoppers(by_shopper, size=len(by_shopper), min_orders=MIN_ORDERS)
    write_catalog(out, ({"id": pid, "title": titles[pid], "category": "", "subcategory": ""} for pid in sorted(bought(shoppers))))
    return write_shoppers(out, shoppers)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, required=True, help="Groceries_dataset.csv")
    print(derive(parser.parse_args().source))


if __name__ == "__main__":
    main()
