"""Search relevance on real title-only catalogs with real graded queries (CrowdFlower, Best Buy; public).

The demo catalog's judgments (``bench/search_quality.py``) are generated from its own
attributes and favour BM25 on tag words; this bench judges search on real shopper queries
and real product titles: CrowdFlower's graded by people (``bench/datasets/search_crowdflower.py``),
Best Buy's graded by what shoppers clicked (``bench/datasets/search_bestbuy.py``); each script is
run first when ``var/`` lacks its data, and a dataset whose source is absent is skipped with a
message.  Each catalog goes through the real import path (a bare ``id,title`` CSV, as a
retailer's minimal export) and the real index build; its directory under ``var/`` is kept, so a
rerun reuses the stored vectors and only rebuilds the BM25 part when the tokenizer changed.

Every method runs ``CatalogSearcher.run`` on the parsed request over the whole catalog; only the fusion
setting differs: BM25 alone, dense alone, plain RRF (k=60, equal weights, the textbook
default), the hybrid as configured (:data:`~catalog_index.fusion.DEFAULT_FUSION`) and the
best fusion of a grid chosen on each dataset's ``tune`` queries.  Figures that matter are the
``test`` queries'.  Writes ``bench/results/search_real.json`` and ``search_real.png``.

    python -m bench.search_real [--datasets NAME ...] [--no-write]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no display on servers and in CI

import matplotlib.pyplot as plt  # noqa: E402 - the backend must be chosen first

from assistant.settings import default_embedding_model  # noqa: E402
from bench.common import RESULTS_DIR, load_average, write_result  # noqa: E402
from bench.datasets import search_bestbuy, search_crowdflower  # noqa: E402
from bench.search_quality import NDCG_AT, RECALL_AT, ndcg, recall  # noqa: E402
from catalog_index.build import ensure_index  # noqa: E402
from catalog_index.fusion import DEFAULT_FUSION, FusionConfig  # noqa: E402
from catalog_index.importer import import_catalog  # noqa: E402
from catalog_index.request import SearchRequest  # noqa: E402
from catalog_index.search import CatalogSearcher  # noqa: E402

NAME = "search_real"
PLAIN_RRF = FusionConfig("rrf", rrf_k=60.0, dense_weight=0.5, depth=100)
# Small grids around what an offline sweep over cached score matrices found best on the tune
# queries (each point here is a full pass of real searches, which is slow on a shared machine).
RRF_GRID = [
    FusionConfig("rrf", rrf_k=60.0, dense_weight=w, coverage_weight=0.4, similarity_weight=sim, phrase_weight=ph, feedback_weight=fb)
    for w in (0.6, 0.7) for sim in (0.0, 0.5) for ph in (0.0, 0.2) for fb in (0.0, 2.0)
]
BLEND_GRID = [
    FusionConfig("blend", dense_weight=w, coverage_weight=0.4, phrase_weight=0.2, feedback_weight=fb)
    for w in (0.7, 0.8) for fb in (0.0, 2.0)
]


def load_queries(path: Path) -> list[dict[str, Any]]:
    """The graded queries written by the dataset script."""
    import json

    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def evaluate(searcher: CatalogSearcher, config: FusionConfig, queries: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Mean NDCG@10 and recall@100 over ``queries``, and the mean search time (query vectors cached)."""
    searcher.fusion = config
    ndcgs, recalls, seconds = [], [], []
    for query in queries:
        started = time.perf_counter()
        hits = searcher.run(SearchRequest.parse(query["query"], searcher.vocabulary, k=RECALL_AT)).hits
        seconds.append(time.perf_counter() - started)
        ranked = [hit.product["id"] for hit in hits]
        ndcgs.append(ndcg(ranked, query["judgments"]))
        recalls.append(recall(ranked, query["judgments"]))
    return {
        "queries": len(queries),
        f"ndcg@{NDCG_AT}": round(statistics.fmean(ndcgs), 4),
        f"recall@{RECALL_AT}": round(statistics.fmean(recalls), 4),
        "mean_search_ms": round(statistics.fmean(seconds) * 1000, 2),
    }


def tune(searcher: CatalogSearcher, grid: Sequence[FusionConfig], queries: Sequence[dict[str, Any]]) -> FusionConfig:
    """The grid point with the best NDCG@10 on ``queries`` (recall@100 breaks ties)."""
    scored = []
    for config in grid:
        figures = evaluate(searcher, config, queries)
        scored.append(((figures[f"ndcg@{NDCG_AT}"], figures[f"recall@{RECALL_AT}"]), config))
    return max(scored, key=lambda item: item[0])[1]


@dataclass(frozen=True)
class Dataset:
    """A real catalog with graded queries: where its derived files live and how to derive them."""

    derive: Callable[[Sequence[str]], int]  # the dataset script's ``main``
    out: Path
    description: dict[str, str]


DATASETS = {
    "crowdflower": Dataset(search_crowdflower.main, search_crowdflower.DEFAULT_OUT, {
        "name": "CrowdFlower Search Results Relevance (Kaggle 2015), train.csv",
        "source": "github.com/praveenbysani/Kaggle-Crowdflower train.csv.zip (see bench/README.md)",
        "grades": "median of 3 raters, 1-4, stored as 0-3",
    }),
    "bestbuy": Dataset(search_bestbuy.main, search_bestbuy.DEFAULT_OUT, {
        "name": "Best Buy Data Mining Hackathon, small (Kaggle 2012): Xbox 360 searches and clicks",
        "source": "github.com/m-baaziz/best_buy_recommendation_kaggle (clicks), github.com/zygmuntz/kaggle-bestbuy_small (names)",
        "grades": "click share of the query's clicks: >=40% 3, >=10% 2, >=2% (2+ clicks) 1; queries with 5+ clicks",
    }),
}


def prepared_index(data: Path, model_name: str, derive: Callable[[Sequence[str]], int] = search_crowdflower.main) -> tuple[Path, int]:
    """Import the bare catalog through the real import path and bring its index up to date."""
    if not (data / "catalog.csv").exists() or not (data / "judgments.jsonl").exists():
        derive(["--out", str(data)])  # exits with a clear message when the source is absent
    catalog = data / "catalog.jsonl"
    report = import_catalog(data / "catalog.csv", catalog)
    ensure_index(catalog, data / "index", model_name, progress=False)
    return data / "index", report.imported


def plot(results: dict[str, dict[str, dict[str, Any]]], path: Path) -> None:
    """NDCG@10 and recall@100 of each method on each dataset, tune and test side by side."""
    figure, grid = plt.subplots(len(results), 2, figsize=(12, 4 * len(results)), squeeze=False)
    for axes, (dataset, methods) in zip(grid, results.items(), strict=True):
        names = list(methods)
        for axis, metric in zip(axes, (f"ndcg@{NDCG_AT}", f"recall@{RECALL_AT}"), strict=True):
            width = 0.4
            for shift, split, color in ((-width / 2, "tune", "#8c8c8c"), (width / 2, "test", "#4c72b0")):
                values = [methods[name][split][metric] for name in names]
                bars = axis.bar([i + shift for i in range(len(names))], values, width, label=split, color=color)
                axis.bar_label(bars, labels=[f"{v:.3f}" for v in values], fontsize=7, padding=1)
            axis.set_xticks(range(len(names)), [name.replace("_", "\n") for name in names], fontsize=8)
            lowest = min(methods[name][split][metric] for name in names for split in ("tune", "test"))
            axis.set_ylim(max(0.0, int((lowest - 0.05) * 20) / 20), 1.0)  # the differences, not the distance from 0
            axis.set_title(f"{dataset}: {metric}")
            axis.legend(fontsize=8)
    figure.suptitle("Real title-only catalogs, real queries: human grades (CrowdFlower), clicks (Best Buy)", fontsize=10)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def run_dataset(name: str, dataset: Dataset, model_name: str) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """Every method on one dataset: its description (with the chosen configs) and its figures per split."""
    index_dir, products = prepared_index(dataset.out, model_name, dataset.derive)
    queries = load_queries(dataset.out / "judgments.jsonl")
    splits = {split: [query for query in queries if query["split"] == split] for split in ("tune", "test")}
    searcher = CatalogSearcher.load(index_dir, model_name)
    methods = {
        "bm25": replace(DEFAULT_FUSION, method="lexical"),
        "dense": replace(DEFAULT_FUSION, method="dense"),
        "plain_rrf": PLAIN_RRF,
        "tuned_rrf": tune(searcher, RRF_GRID, splits["tune"]),
        "tuned_blend": tune(searcher, BLEND_GRID, splits["tune"]),
        "hybrid": DEFAULT_FUSION,
    }
    results = {
        method: {split: evaluate(searcher, config, chosen) for split, chosen in splits.items()} for method, config in methods.items()
    }
    print(f"{name}: {products} products; {len(splits['tune'])} tune and {len(splits['test'])} test queries")
    print(f"{'method':<12} {'tune ndcg':>9} {'tune r@100':>10} {'test ndcg':>9} {'test r@100':>10}")
    for method, result in results.items():
        tune_part, test_part = result["tune"], result["test"]
        print(
            f"{method:<12} {tune_part['ndcg@10']:>9.4f} {tune_part['recall@100']:>10.4f}"
            f" {test_part['ndcg@10']:>9.4f} {test_part['recall@100']:>10.4f}"
        )
    for method in ("tuned_rrf", "tuned_blend", "hybrid"):
        print(f"{method}: {methods[method]}")
    description = {
        **dataset.description,
        "products": products,
        "catalog": "title only (bare id,title export through catalog import)",
        "queries": {split: len(chosen) for split, chosen in splits.items()},
        "configs": {method: asdict(config) for method, config in methods.items()},
    }
    return description, results


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--datasets", nargs="+", choices=sorted(DATASETS), default=list(DATASETS))
    parser.add_argument("--no-write", action="store_true", help="print the tables only")
    args = parser.parse_args(argv)
    load_at_start = load_average()
    model_name = default_embedding_model()
    described: dict[str, dict[str, Any]] = {}
    results: dict[str, dict[str, dict[str, Any]]] = {}
    for name in args.datasets:
        try:
            described[name], results[name] = run_dataset(name, DATASETS[name], model_name)
        except SystemExit as missing:  # the source was not fetched: the other datasets still run
            print(f"{name}: skipped ({missing})")
    if results and not args.no_write:
        path = write_result(
            NAME,
            {
                "datasets": described,
                "metrics": {"ndcg": f"NDCG@{NDCG_AT}, gain 2^grade-1, unjudged products 0",
                            "recall": f"recall@{RECALL_AT} of grade>=2 products (all judged ones if none reach 2)"},
                "results": results,
            },
            notes=["search_real: relevance figures are deterministic for a given index; mean_search_ms has query vectors cached."],
            load_at_start=load_at_start,
        )
        plot(results, RESULTS_DIR / f"{NAME}.png")
        print(f"wrote {path}")
    return 0 if results else 1


if __name__ == "__main__":
    raise SystemExit(main())
