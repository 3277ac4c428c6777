"""Derive a title-only catalog and click-graded queries from the Best Buy "Data Mining Hackathon" (Kaggle, 2012).

The source is the small data set of the Kaggle competition "Data Mining Hackathon on (20 mb)
Best Buy mobile web site - ACM SF Bay Area Chapter": 42,365 real searches on Best Buy's mobile
site (August-October 2011) in the Xbox 360 games category, each with the product (SKU) the
shopper then clicked.  Two public GitHub copies are used, both brought with the search tool's
``fetch``:

* the clicks: ``m-baaziz/best_buy_recommendation_kaggle`` (commit 926ae93d986a), whose
  ``data/csv/train.csv`` and ``data/csv/test.csv`` are the competition's ``train.csv`` split
  in two (33,892 + 8,473 rows, the original columns and user hashes);
* the product names: ``zygmuntz/kaggle-bestbuy_small`` (commit 258bcbbfe3ee),
  ``full-disclosure/sku_name.tsv``, the SKU and name of each of the 437 products of the
  competition's ``small_product_data.xml``.

Clicks are not grades, so grades come from each query's click shares (the share of that
query's clicks that went to the product), over queries with at least :data:`MIN_CLICKS`
clicks on catalog products: 3 for a share of at least 40%, 2 from 10%, 1 from 2% with at least
two clicks; rarer clicks stay unjudged (mis-taps and browsing).  Query texts are
lower-cased with whitespace collapsed (so "Gears of war 3" and "gears of war 3" are one query);
campaign tags that the site logged as queries ("20110801_GOW3"), bare SKU lists and texts
without a letter or digit are dropped.

What is written into ``--out`` (``var/search_real/bestbuy`` by default, not committed):
``catalog.csv`` (a bare ``id,title`` export) and ``judgments.jsonl`` (one line per query,
``{"query", "split", "judgments": {id: grade}}``, split by a hash of the query text as for
CrowdFlower).

    python -m bench.datasets.search_bestbuy [--clicks GIT_DIR] [--names GIT_DIR] [--out DIR]
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import re
import subprocess
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path

from assistant.settings import PROJECT_ROOT
from bench.datasets.search_crowdflower import split_of, write_search_set

CLICKS_SNAPSHOT = Path("/work/.mirror/m-baaziz+best_buy_recommendation_kaggle/repo/.git")
NAMES_SNAPSHOT = Path("/work/.mirror/zygmuntz+kaggle-bestbuy_small/repo/.git")
# file in its repository -> SHA-256 of the bytes as fetched (checked)
CLICK_FILES = {
    "data/csv/train.csv": "a23c4f7c1dd54ce7e200d86c042ab5e84697f42c0d79083d3ef60b529d45f048",
    "data/csv/test.csv": "fd5f96496ee361c83ce2b4aa9beaf08a701e009870d2bade291be61d1d2fffca",
}
NAMES_FILE = ("full-disclosure/sku_name.tsv", "9f011e7aea7f983e73ff552820d5b39f3445955223a026870dcaab7065de1bbf")
DEFAULT_OUT = PROJECT_ROOT / "var" / "search_real" / "bestbuy"
MIN_CLICKS = 5  # a query's clicks on catalog products; fewer give no usable shares
GRADE_SHARES = ((3, 0.40), (2, 0.10), (1, 0.02))  # (grade, least click share), best first
_NOT_A_QUERY = re.compile(r"_|^[\d\s]+$|^[^a-z0-9]*$")  # campaign tags ("201109_Gaming"), bare SKU lists, no word at all


def read_snapshot_file(git_dir: Path, path: str, sha256: str) -> bytes:
    """One file of a fetched repository's HEAD, checked against the digest it had when this script was written."""
    if not git_dir.exists():
        raise SystemExit(f"no snapshot at {git_dir}: fetch the repository with the search tool first (see bench/README.md)")
    data = subprocess.run(["git", f"--git-dir={git_dir}", "show", f"HEAD:{path}"], capture_output=True, check=True).stdout
    digest = hashlib.sha256(data).hexdigest()
    if digest != sha256:
        raise SystemExit(f"{git_dir}:{path} has SHA-256 {digest}, expected {sha256}")
    return data


def grade(share: float, clicks: int) -> int:
    """The grade a product's click share under a query earns (0: unjudged)."""
    for value, least in GRADE_SHARES:
        if share >= least and (value > 1 or clicks >= 2):
            return value
    return 0


def derive(names: dict[str, str], clicks: Iterable[dict[str, str]]) -> tuple[list[dict[str, str]], list[dict[str, object]]]:
    """Products (id, title) and per-query graded judgments from the names and the click rows."""
    products = [{"id": f"bb-{sku}", "title": name} for sku, name in names.items()]
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for row in clicks:
        query = " ".join(row["query"].lower().split())
        if query and row["sku"] in names and not _NOT_A_QUERY.search(query):
            counts[query][f"bb-{row['sku']}"] += 1
    queries: list[dict[str, object]] = []
    for query, by_product in sorted(counts.items()):
        total = sum(by_product.values())
        if total < MIN_CLICKS:
            continue
        judged = {pid: grade(n / total, n) for pid, n in sorted(by_product.items())}
        judged = {pid: value for pid, value in judged.items() if value}
        if judged:
            queries.append({"query": query, "split": split_of(query), "judgments": judged})
    return products, queries


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clicks", type=Path, default=CLICKS_SNAPSHOT, help="fetched git directory of the click files")
    parser.add_argument("--names", type=Path, default=NAMES_SNAPSHOT, help="fetched git directory of sku_name.tsv")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    names: dict[str, str] = {}
    for line in read_snapshot_file(args.names, *NAMES_FILE).decode("utf-8").splitlines():
        sku, _, name = line.partition("\t")
        if sku and name.strip():
            names[sku.strip()] = " ".join(name.split())
    rows: list[dict[str, str]] = []
    for path, digest in CLICK_FILES.items():
        text = read_snapshot_file(args.clicks, path, digest).decode("utf-8", errors="replace")
        reader = csv.reader(io.StringIO(text, newline=""))
        next(reader)  # the header (one copy spells "User"): the columns are the competition's, in its order
        rows.extend({"sku": row[1], "query": row[3]} for row in reader if len(row) >= 4)
    products, queries = derive(names, rows)
    splits = write_search_set(args.out, products, queries)
    print(f"{len(products)} products, {len(rows)} clicks, {len(queries)} queries ({splits}) -> {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
