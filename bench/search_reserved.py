"""Search relevance on a reserved real catalog (WANDS, Wayfair): evaluation only, never tuning.

WANDS (Wayfair ANnotation DataSet, Chen et al., ECIR 2022, MIT licence; GitHub ``wayfair/WANDS``)
holds 42,994 real products, 480 real shopper queries and 233,448 human judgments (Exact,
Partial, Irrelevant).  It is on the project's reserved list (``EVALUATION.md``): nothing here
chooses a weight, and nothing may be changed because of its figures.  ``bench/search_real.py``
(CrowdFlower) is where choices are made.

The catalog is exported the way a retailer's minimal export looks, ``id,title`` (or
``id,title,category`` with ``--with-category``, the product class), imported through the real
``catalog import`` path and indexed by the real build; data and index stay in ``var/`` (not
committed).  Every method runs ``CatalogSearcher.run`` on the parsed request over the whole catalog:
BM25 alone, dense alone, plain RRF (k=60, equal weights), the hybrid as configured and
the hybrid with the dense feedback measured for issue #10.6 (not adopted: see ``fusion.py``).
Grades: Exact 2, Partial 1, Irrelevant 0 (gain ``2**grade - 1``); recall@100 counts the Exact products.
Writes ``bench/results/search_reserved.json``.

The fetched snapshot of ``wayfair/WANDS`` lacks ``product.csv`` and ``label.csv`` (files of 4 MiB
and more are left out of snapshots); a clone of the repository has them: pass its directory.

    python -m bench.search_reserved [--source DIR] [--data DIR] [--with-category] [--no-write]
"""

from __future__ import annotations

import argparse
import csv
import io
import subprocess
import sys
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from assistant.settings import PROJECT_ROOT, default_embedding_model
from bench.common import load_average, write_result
from bench.search_quality import NDCG_AT, RECALL_AT
from bench.search_real import PLAIN_RRF, evaluate
from catalog_index.build import ensure_index
from catalog_index.fusion import DEFAULT_FUSION, FEEDBACK_FUSION
from catalog_index.importer import import_catalog
from catalog_index.search import CatalogSearcher

NAME = "search_reserved"
SNAPSHOT = Path("/work/.mirror/wayfair+WANDS/repo")
DEFAULT_DATA = PROJECT_ROOT / "var" / "search_reserved" / "wands"
MEMBERS = ("product.csv", "query.csv", "label.csv")
GRADES = {"Exact": 2, "Partial": 1, "Irrelevant": 0}


def read_member(source: Path, name: str) -> str:
    """``dataset/<name>`` from a clone (a work tree) or a fetched bare git directory."""
    if (source / "dataset" / name).is_file():
        return (source / "dataset" / name).read_text(encoding="utf-8")
    if (source / "HEAD").is_file():
        shown = subprocess.run(["git", f"--git-dir={source}", "show", f"HEAD:dataset/{name}"], capture_output=True, check=False)
        if shown.returncode == 0:
            return shown.stdout.decode("utf-8")
    raise SystemExit(
        f"no dataset/{name} in {source}: fetched snapshots leave out files of 4 MiB and more; "
        "clone the repository wayfair/WANDS and pass its directory as --source"
    )


def tsv_rows(text: str) -> list[dict[str, str]]:
    csv.field_size_limit(sys.maxsize)  # product descriptions run long
    return list(csv.DictReader(io.StringIO(text, newline=""), delimiter="\t"))


def derive(
    products: Sequence[dict[str, str]], queries: Sequence[dict[str, str]], labels: Sequence[dict[str, str]], with_category: bool
) -> tuple[list[dict[str, str]], list[dict[str, Any]]]:
    """The bare export (``id,title[,category]``) and one judged query per WANDS query with a judgment."""
    catalog = []
    for row in products:
        title = " ".join((row.get("product_name") or "").split())
        if not title:
            continue
        entry = {"id": f"w-{row['product_id']}", "title": title}
        if with_category:
            entry["category"] = " ".join((row.get("product_class") or "").split())
        catalog.append(entry)
    known = {entry["id"] for entry in catalog}
    text_of = {row["query_id"]: " ".join(row["query"].split()) for row in queries}
    grades: dict[str, dict[str, int]] = defaultdict(dict)
    for row in labels:
        product = f"w-{row['product_id']}"
        if product in known and row["query_id"] in text_of and row["label"] in GRADES:
            grades[row["query_id"]][product] = GRADES[row["label"]]
    judged = [{"query": text_of[qid], "judgments": grades[qid]} for qid in sorted(grades, key=int) if any(grades[qid].values())]
    return catalog, judged


def prepare(source: Path, data: Path, with_category: bool) -> tuple[Path, int, list[dict[str, Any]]]:
    """Derive the export into ``data``, import it through the real path and bring its index up to date."""
    catalog, queries = derive(*(tsv_rows(read_member(source, name)) for name in MEMBERS), with_category)
    data.mkdir(parents=True, exist_ok=True)
    fields = ["id", "title", "category"] if with_category else ["id", "title"]
    with (data / "catalog.csv").open("w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, fieldnames=fields)
        writer.writeheader()
        writer.writerows(catalog)
    report = import_catalog(data / "catalog.csv", data / "catalog.jsonl")
    ensure_index(data / "catalog.jsonl", data / "index", default_embedding_model(), progress=False)
    return data / "index", report.imported, queries


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--source", type=Path, default=SNAPSHOT, help="a clone of wayfair/WANDS, or its fetched git directory")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="where the derived export and its index are kept")
    parser.add_argument("--with-category", action="store_true", help="export the product class as the category too")
    parser.add_argument("--no-write", action="store_true", help="print the table only")
    args = parser.parse_args(argv)
    load_at_start = load_average()
    data = args.data / ("title_category" if args.with_category else "title")
    index_dir, products, queries = prepare(args.source, data, args.with_category)
    searcher = CatalogSearcher.load(index_dir, default_embedding_model())
    methods = {
        "bm25": replace(DEFAULT_FUSION, method="lexical"),
        "dense": replace(DEFAULT_FUSION, method="dense"),
        "plain_rrf": PLAIN_RRF,
        "hybrid": DEFAULT_FUSION,
        "hybrid_with_feedback": FEEDBACK_FUSION,
    }
    results = {name: evaluate(searcher, config, queries) for name, config in methods.items()}
    print(f"WANDS: {products} products ({'title, category' if args.with_category else 'title only'}), {len(queries)} judged queries")
    print(f"{'method':<14} {'ndcg@10':>8} {'r@100':>8} {'ms':>7}")
    for name, result in results.items():
        print(f"{name:<14} {result[f'ndcg@{NDCG_AT}']:>8.4f} {result[f'recall@{RECALL_AT}']:>8.4f} {result['mean_search_ms']:>7.2f}")
    if not args.no_write:
        path = write_result(
            NAME,
            {
                "dataset": {
                    "name": "WANDS (Wayfair ANnotation DataSet), reserved: evaluation only",
                    "source": "GitHub wayfair/WANDS dataset/{product,query,label}.csv (MIT)",
                    "products": products,
                    "catalog": "id,title,category (product class)" if args.with_category else "id,title (bare export)",
                    "queries": len(queries),
                    "grades": "Exact 2, Partial 1, Irrelevant 0",
                },
                "metrics": {"ndcg": f"NDCG@{NDCG_AT}, gain 2^grade-1, unjudged products 0",
                            "recall": f"recall@{RECALL_AT} of Exact products"},
                "configs": {name: asdict(config) for name, config in methods.items()},
                "methods": results,
            },
            notes=["search_reserved: evaluation only; no setting is chosen on this data (EVALUATION.md)."],
            load_at_start=load_at_start,
        )
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
