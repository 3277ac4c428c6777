"""Relevance of dense-only, BM25-only and hybrid search on the labelled queries: NDCG@10, recall@100.

Every method runs the real ``CatalogSearcher.run`` path on the parsed request (query parsing, hard
filters, exact-match tiers for the fused methods) over the same index; only the fusion
setting differs.  Fusion parameters are tuned on the ``tune`` half of
``tests/data/search_judgments.jsonl`` and every figure that matters is reported on the
``test`` half, so the choice in ``catalog_index/fusion.py`` is not fitted to what it is
judged on.  The index is never rebuilt in place: when the one given lacks a current BM25
part, a copy in a temporary directory is completed (reusing its stored vectors).

    python -m bench.search_quality [--index-dir DIR] [--catalog FILE] [--judgments FILE]
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import tempfile
from collections import defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from assistant.settings import PROJECT_ROOT, default_embedding_model
from bench.search_results import update_search_results
from catalog_index.build import ensure_index, index_status
from catalog_index.fusion import DEFAULT_FUSION, FusionConfig
from catalog_index.request import SearchRequest
from catalog_index.search import CatalogSearcher

DEFAULT_JUDGMENTS = PROJECT_ROOT / "tests" / "data" / "search_judgments.jsonl"
DEMO = PROJECT_ROOT / "var" / "demo"
NDCG_AT = 10
RECALL_AT = 100
RRF_GRID = [FusionConfig("rrf", rrf_k=k, dense_weight=w) for k in (5, 10, 20, 40, 60, 100) for w in (0.3, 0.4, 0.5, 0.6, 0.7)]
BLEND_GRID = [FusionConfig("blend", dense_weight=w / 10) for w in range(2, 9)]


def ndcg(ranked: Sequence[str], judgments: dict[str, int], at: int = NDCG_AT) -> float:
    """Normalized discounted cumulative gain with gains ``2**grade - 1``."""
    gain = sum((2 ** judgments.get(pid, 0) - 1) / math.log2(i + 2) for i, pid in enumerate(ranked[:at]))
    ideal_grades = sorted(judgments.values(), reverse=True)[:at]
    ideal = sum((2**grade - 1) / math.log2(i + 2) for i, grade in enumerate(ideal_grades))
    return gain / ideal if ideal else 0.0


def recall(ranked: Sequence[str], judgments: dict[str, int], at: int = RECALL_AT) -> float:
    """Share of the grade >= 2 products (all judged ones if none reach 2) found in the top ``at``."""
    threshold = 2 if any(grade >= 2 for grade in judgments.values()) else 1
    relevant = {pid for pid, grade in judgments.items() if grade >= threshold}
    return len(relevant & set(ranked[:at])) / len(relevant)


def evaluate(searcher: CatalogSearcher, config: FusionConfig, queries: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Mean NDCG@10 and recall@100 overall and per query kind."""
    searcher.fusion = config
    per_kind: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for query in queries:
        ranked = [hit.product["id"] for hit in searcher.run(SearchRequest.parse(query["query"], searcher.vocabulary, k=RECALL_AT)).hits]
        per_kind[query["kind"]].append((ndcg(ranked, query["judgments"]), recall(ranked, query["judgments"])))
    every = [pair for pairs in per_kind.values() for pair in pairs]

    def summary(pairs: list[tuple[float, float]]) -> dict[str, float]:
        return {
            "queries": len(pairs),
            f"ndcg@{NDCG_AT}": round(sum(p[0] for p in pairs) / len(pairs), 4),
            f"recall@{RECALL_AT}": round(sum(p[1] for p in pairs) / len(pairs), 4),
        }

    return {**summary(every), "by_kind": {kind: summary(pairs) for kind, pairs in sorted(per_kind.items())}}


def tune(searcher: CatalogSearcher, grid: Sequence[FusionConfig], queries: Sequence[dict[str, Any]]) -> tuple[FusionConfig, float]:
    """The grid point with the best mean NDCG@10 on ``queries`` (recall@100 breaks ties)."""
    scored = []
    for config in grid:
        figures = evaluate(searcher, config, queries)
        scored.append(((figures[f"ndcg@{NDCG_AT}"], figures[f"recall@{RECALL_AT}"]), config))
    (best_ndcg, _), best = max(scored, key=lambda item: item[0])
    return best, best_ndcg


@contextmanager
def usable_index(index_dir: Path, catalog: Path, model_name: str) -> Iterator[Path]:
    """``index_dir`` itself when current, else a completed temporary copy (never touches the original)."""
    if index_status(catalog, index_dir, model_name).ok:
        yield index_dir
        return
    with tempfile.TemporaryDirectory(prefix="search-quality-") as scratch:
        copy = Path(scratch) / "index"
        if index_dir.exists():
            shutil.copytree(index_dir, copy)
        ensure_index(catalog, copy, model_name, progress=False)
        yield copy


def _row(name: str, config: FusionConfig, figures: dict[str, Any]) -> str:
    return f"{name:<12} {config.method:<8} {figures[f'ndcg@{NDCG_AT}']:>8.4f} {figures[f'recall@{RECALL_AT}']:>10.4f}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--index-dir", type=Path, default=DEMO / "index")
    parser.add_argument("--catalog", type=Path, default=DEMO / "catalog.jsonl")
    parser.add_argument("--judgments", type=Path, default=DEFAULT_JUDGMENTS)
    parser.add_argument("--no-write", action="store_true", help="print the table only")
    args = parser.parse_args(argv)
    queries = [json.loads(line) for line in args.judgments.read_text().splitlines() if line.strip()]
    tune_half = [query for query in queries if query["split"] == "tune"]
    test_half = [query for query in queries if query["split"] == "test"]
    model_name = default_embedding_model()

    with usable_index(args.index_dir, args.catalog, model_name) as index_dir:
        searcher = CatalogSearcher.load(index_dir, model_name)
        best_rrf, rrf_tune = tune(searcher, RRF_GRID, tune_half)
        best_blend, blend_tune = tune(searcher, BLEND_GRID, tune_half)
        chosen = best_rrf if rrf_tune >= blend_tune else best_blend
        methods = {
            "dense": replace(DEFAULT_FUSION, method="dense"),
            "bm25": replace(DEFAULT_FUSION, method="lexical"),
            "hybrid_rrf": best_rrf,
            "hybrid_blend": best_blend,
            "default": DEFAULT_FUSION,
        }
        results = {name: {"config": asdict(config), "test": evaluate(searcher, config, test_half),
                          "all": evaluate(searcher, config, queries)} for name, config in methods.items()}

    print(f"test half ({len(test_half)} queries; tuned on {len(tune_half)}):")
    print(f"{'method':<12} {'fusion':<8} {'ndcg@10':>8} {'recall@100':>10}")
    for name, result in results.items():
        print(_row(name, methods[name], result["test"]))
    print(f"best on the tuning half: {chosen}; configured DEFAULT_FUSION: {DEFAULT_FUSION}")
    if not args.no_write:
        path = update_search_results(
            {"relevance": {
                "judgments": str(
                    args.judgments.relative_to(PROJECT_ROOT) if args.judgments.is_relative_to(PROJECT_ROOT) else args.judgments
                ),
                "queries": {"tune": len(tune_half), "test": len(test_half)},
                "metrics": {"ndcg": f"NDCG@{NDCG_AT}, gain 2^grade-1", "recall": f"recall@{RECALL_AT} of grade>=2 products"},
                "tuned_on_tune_half": {"rrf": {**asdict(best_rrf), "ndcg@10": rrf_tune},
                                       "blend": {**asdict(best_blend), "ndcg@10": blend_tune}, "best": asdict(chosen),
                                       "configured_default": asdict(DEFAULT_FUSION)},
                "methods": results,
            }},
            notes=["relevance: figures are deterministic for a given index and judgments file."],
        )
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
