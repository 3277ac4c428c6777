"""Derive a title-only catalog and graded queries from the CrowdFlower search-relevance data (Kaggle, 2015).

The source is ``train.csv`` of the Kaggle competition "Crowdflower Search Results
Relevance": 10,158 (query, product) pairs from real e-commerce sites, 261 distinct real
shopper queries, each pair graded 1-4 by three human raters (the median is kept).  A
public copy of the competition's ``train.csv.zip`` lies in the GitHub repository
``praveenbysani/Kaggle-Crowdflower`` (commit f5512075efc7); bring it with the search tool's
``fetch`` and point ``--source`` at the git directory (or at the zip itself).

What is written into ``--out`` (``var/search_real/crowdflower`` by default, not committed):

* ``catalog.csv``: a bare export, ``id,title`` only (product titles deduplicated: the same
  title judged under several queries is one product), which the bench imports through the
  real ``catalog import`` path;
* ``judgments.jsonl``: one line per query, ``{"query", "split", "judgments": {id: grade}}``
  with grade = median rating - 1 (0 irrelevant ... 3 perfect), and ``split`` ``tune`` or
  ``test`` by a hash of the query text, so the split is stable and by query.

    python -m bench.datasets.search_crowdflower [--source GIT_DIR_OR_ZIP] [--out DIR]
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import subprocess
import zipfile
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

from assistant.settings import PROJECT_ROOT

SNAPSHOT = Path("/work/.mirror/praveenbysani+Kaggle-Crowdflower/repo")
ZIP_IN_REPO = "train.csv.zip"
SOURCE_SHA256 = "d690ace31d321c646ffaeabd95255b4eea5126bae71ab568820f7f2c50094a28"  # train.csv.zip as fetched
DEFAULT_OUT = PROJECT_ROOT / "var" / "search_real" / "crowdflower"


def split_of(query: str) -> str:
    """``tune`` or ``test``, about half each, fixed by the query text alone."""
    return "tune" if hashlib.sha256(query.encode()).digest()[0] % 2 == 0 else "test"


def read_zip_bytes(source: Path) -> bytes:
    """The competition zip, from a fetched git directory (its HEAD) or a file; checked against its known digest."""
    if not source.exists():
        raise SystemExit(
            f"no CrowdFlower source at {source}: fetch github:praveenbysani/Kaggle-Crowdflower with the search tool, "
            "or pass --source train.csv.zip (see bench/README.md)"
        )
    if source.is_dir():
        data = subprocess.run(
            ["git", f"--git-dir={source}", "show", f"HEAD:{ZIP_IN_REPO}"], capture_output=True, check=True
        ).stdout
    else:
        data = source.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if digest != SOURCE_SHA256:
        raise SystemExit(f"{source}: train.csv.zip has SHA-256 {digest}, expected {SOURCE_SHA256}")
    return data


def derive(rows: Sequence[dict[str, str]]) -> tuple[list[dict[str, str]], list[dict[str, object]]]:
    """Products (id, title) and per-query judgments from the competition rows."""
    product_of: dict[str, str] = {}
    products: list[dict[str, str]] = []
    grades: dict[str, dict[str, int]] = defaultdict(dict)
    for row in rows:
        title = " ".join(row["product_title"].split())
        query = " ".join(row["query"].split())
        if not title or not query:
            continue
        if title not in product_of:
            product_of[title] = f"cf-{len(products) + 1:05d}"
            products.append({"id": product_of[title], "title": title})
        pid = product_of[title]
        grade = int(row["median_relevance"]) - 1
        grades[query][pid] = max(grade, grades[query].get(pid, 0))  # the same title twice under one query: its best
    queries = [{"query": query, "split": split_of(query), "judgments": judged} for query, judged in sorted(grades.items())]
    return products, queries


def write_search_set(out: Path, products: Sequence[dict[str, str]], queries: Sequence[dict[str, object]]) -> dict[str, int]:
    """Write a real-data search set as ``bench/search_real.py`` reads it; the number of queries per split.

    ``catalog.csv`` is a bare ``id,title`` export, ``judgments.jsonl`` one graded query a line.
    """
    out.mkdir(parents=True, exist_ok=True)
    with (out / "catalog.csv").open("w", newline="", encoding="utf-8") as catalog:
        writer = csv.DictWriter(catalog, fieldnames=["id", "title"])
        writer.writeheader()
        writer.writerows(products)
    (out / "judgments.jsonl").write_text("".join(json.dumps(query) + "\n" for query in queries))
    return {name: sum(query["split"] == name for query in queries) for name in ("tune", "test")}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--source", type=Path, default=SNAPSHOT, help="fetched git directory or train.csv.zip")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    with zipfile.ZipFile(io.BytesIO(read_zip_bytes(args.source))) as archive:
        text = archive.read("train.csv").decode("utf-8")
    products, queries = derive(list(csv.DictReader(io.StringIO(text, newline=""))))
    splits = write_search_set(args.out, products, queries)
    print(f"{len(products)} products, {len(queries)} queries ({splits}) -> {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
