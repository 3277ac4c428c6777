"""Catalog embeddings through ONNX Runtime against sentence-transformers (torch): speed, memory, start-up, agreement.

For each backend of ``catalog_index/embedder.py`` (``onnx``: the search encoder ``make encoder``
wrote, int8 or fp32 as its ``encoder.json`` says; ``torch``: sentence-transformers):

* ``startup``: a fresh process that imports the embedder, loads the model and embeds one query
  (what a server pays before its first search), its wall time and resident memory after 50
  warm-up queries, measured from the parent;
* ``query``: p50/p95 of embedding one query with one thread (what a search pays; the searcher's
  query cache is bypassed), over the demo judgments' and the CrowdFlower queries;
* ``build``: products/s embedding the demo catalog's texts (``document_text``: titles with brand,
  tags and the start of the description) with every core, as ``catalog build-index`` does;
* ``agreement``: cosine between the two backends' vectors of every catalog text and query;
* ``search``: an index per backend, each searched with its own backend's query vectors:
  recall@10 of the ONNX results against the torch results (dense leg alone, and the hybrid as
  configured), and NDCG@10 of both on the graded judgments (the demo's generated ones and the
  real CrowdFlower ones, when ``bench/datasets/search_crowdflower.py`` has derived them).

Writes ``bench/results/embed.json``.

    python -m bench.embed_bench [--data-dir var/demo] [--crowdflower DIR] [--no-write]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from assistant.settings import PROJECT_ROOT, default_embedding_model
from bench.common import latency_summary, load_average, write_result
from bench.datasets.search_crowdflower import DEFAULT_OUT as CROWDFLOWER
from bench.search_quality import NDCG_AT, evaluate
from catalog_index.build import build_index_from_vectors
from catalog_index.embedder import BACKENDS, BUILD_THREADS, Embedder, document_text
from catalog_index.fusion import DEFAULT_FUSION
from catalog_index.importer import import_catalog, read_catalog
from catalog_index.search import CatalogSearcher

NAME = "embed"
DEMO_JUDGMENTS = PROJECT_ROOT / "tests" / "data" / "search_judgments.jsonl"
RECALL_K = 10
WARM_UP_QUERIES = 50
PROBE_QUERY = "waterproof hiking boots under $150"


def probe(backend: str) -> None:
    """Child process: load ``backend``, embed one query, report its start-up; then warm up and report memory."""
    started = time.perf_counter()
    from catalog_index.embedder import Embedder

    embedder = Embedder(default_embedding_model(), threads=1, backend=backend)
    embedder.embed([PROBE_QUERY])
    loaded = time.perf_counter() - started
    for number in range(WARM_UP_QUERIES):
        embedder.embed([f"{PROBE_QUERY} {number}"])
    status = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines() if ":" in line)
    print(json.dumps({
        "load_and_first_query_seconds": round(loaded, 3),
        "rss_mib_after_warm_up": round(int(status["VmRSS"].split()[0]) / 1024, 1),
        "torch_imported": "torch" in sys.modules,
    }))


def startup(backend: str) -> dict[str, Any]:
    """Start-up of a fresh process that embeds with ``backend``: wall time from exec (interpreter included) and memory."""
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "bench.embed_bench", "--probe", backend],
                          cwd=PROJECT_ROOT, capture_output=True, text=True, check=True)
    wall = time.perf_counter() - started
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    return {"process_seconds_to_first_vector": round(wall, 3), **figures}


def query_latency(embedder: Embedder, queries: Sequence[str]) -> dict[str, Any]:
    """Latency of one-query embeddings (each text once, so no cache helps)."""
    embedder.embed(["warm up"])
    seconds, cpu = [], []
    for query in queries:
        started, cpu_started = time.perf_counter(), time.process_time()
        embedder.embed([query])
        seconds.append(time.perf_counter() - started)
        cpu.append(time.process_time() - cpu_started)
    return {**latency_summary(seconds), "cpu": latency_summary(cpu)}


def build_throughput(embedder: Embedder, texts: Sequence[str]) -> tuple[np.ndarray, dict[str, Any]]:
    """The vectors of ``texts`` and the products/s it took, batched as the index build does."""
    started, cpu_started = time.perf_counter(), time.process_time()
    vectors = embedder.embed(list(texts), batch_size=64)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    return vectors, {"products": len(texts), "seconds": round(seconds, 2), "products_per_second": round(len(texts) / seconds, 1),
                     "cpu_seconds": round(cpu, 2), "products_per_cpu_second": round(len(texts) / cpu, 1), "threads": BUILD_THREADS}


def cosines(a: np.ndarray, b: np.ndarray) -> dict[str, float]:
    """Row-wise cosine of two sets of unit vectors: worst, 1st percentile and mean."""
    values = np.sum(a * b, axis=1)
    return {"min": round(float(values.min()), 5), "p1": round(float(np.percentile(values, 1)), 5),
            "mean": round(float(values.mean()), 5), "n": len(values)}


def overlap_at_k(reference: CatalogSearcher, other: CatalogSearcher, queries: Sequence[str], method: str) -> float:
    """Mean share of ``reference``'s top ``RECALL_K`` that ``other`` also returns in its top ``RECALL_K``."""
    config = DEFAULT_FUSION if method == "hybrid" else replace(DEFAULT_FUSION, method="dense")
    reference.fusion = other.fusion = config
    shares = []
    for query in queries:
        wanted = {hit.product["id"] for hit in reference.search(query, k=RECALL_K).hits}
        got = {hit.product["id"] for hit in other.search(query, k=RECALL_K).hits}
        if wanted:
            shares.append(len(wanted & got) / len(wanted))
    return round(float(np.mean(shares)), 4)


def compare_search(catalog: Path, texts_vectors: dict[str, np.ndarray], embedders: dict[str, Embedder],
                   judgments: list[dict[str, Any]]) -> dict[str, Any]:
    """Indexes of ``catalog`` from each backend's vectors, searched with that backend: recall@10 against torch, NDCG."""
    model = default_embedding_model()
    queries = [query["query"] for query in judgments]
    with tempfile.TemporaryDirectory(prefix="embed-bench-") as scratch:
        searchers = {}
        for backend, vectors in texts_vectors.items():
            index_dir = Path(scratch) / backend / "index"
            index_dir.parent.mkdir()
            build_index_from_vectors(catalog, index_dir, model, vectors, embedding_backend=embedders[backend].backend)
            searchers[backend] = CatalogSearcher.load(index_dir, model, embedder=embedders[backend])
        figures: dict[str, Any] = {
            f"recall@{RECALL_K}_onnx_vs_torch": {
                method: overlap_at_k(searchers["torch"], searchers["onnx"], queries, method) for method in ("dense", "hybrid")
            },
            "queries": len(queries),
        }
        for backend, searcher in searchers.items():
            scored = evaluate(searcher, DEFAULT_FUSION, judgments)
            figures[f"ndcg@{NDCG_AT}_hybrid_{backend}"] = scored[f"ndcg@{NDCG_AT}"]
            scored = evaluate(searcher, replace(DEFAULT_FUSION, method="dense"), judgments)
            figures[f"ndcg@{NDCG_AT}_dense_{backend}"] = scored[f"ndcg@{NDCG_AT}"]
    return figures


def crowdflower_catalog(source: Path, scratch: Path) -> tuple[Path, list[dict[str, Any]]] | None:
    """The CrowdFlower titles imported as a catalog, and their graded queries; ``None`` when not derived."""
    if not (source / "catalog.csv").exists():
        return None
    catalog = scratch / "catalog.jsonl"
    import_catalog(source / "catalog.csv", catalog)
    queries = [json.loads(line) for line in (source / "judgments.jsonl").read_text().splitlines() if line.strip()]
    return catalog, [{**query, "kind": "crowdflower"} for query in queries]


def measure(data_dir: Path, crowdflower: Path) -> dict[str, Any]:
    model = default_embedding_model()
    demo_catalog = data_dir / "catalog.jsonl"
    demo_texts = [document_text(product) for product in read_catalog(demo_catalog)]
    demo_judgments = [json.loads(line) for line in DEMO_JUDGMENTS.read_text().splitlines() if line.strip()]
    figures: dict[str, Any] = {"startup": {backend: startup(backend) for backend in BACKENDS}}
    builders = {backend: Embedder(model, threads=BUILD_THREADS, backend=backend) for backend in BACKENDS}
    searchers = {backend: Embedder(model, threads=1, backend=backend) for backend in BACKENDS}
    figures["onnx_variant"] = {"backend": searchers["onnx"].backend,
                               "encoder": {k: v for k, v in searchers["onnx"].export_manifest.items() if "fingerprint" not in k}}
    with tempfile.TemporaryDirectory(prefix="embed-bench-cf-") as scratch:
        real = crowdflower_catalog(crowdflower, Path(scratch))
        queries = [query["query"] for query in demo_judgments] + ([query["query"] for query in real[1]] if real else [])
        figures["query"] = {backend: query_latency(embedder, queries) for backend, embedder in searchers.items()}
        demo_vectors, figures["build"] = {}, {}
        for backend, embedder in builders.items():
            demo_vectors[backend], figures["build"][backend] = build_throughput(embedder, demo_texts)
        query_vectors = {backend: embedder.embed(queries) for backend, embedder in searchers.items()}
        figures["agreement_cosine_onnx_vs_torch"] = {
            "demo_catalog_texts": cosines(demo_vectors["onnx"], demo_vectors["torch"]),
            "queries": cosines(query_vectors["onnx"], query_vectors["torch"]),
        }
        figures["search"] = {"demo": compare_search(demo_catalog, demo_vectors, searchers, demo_judgments)}
        if real is not None:
            catalog, judgments = real
            titles = [document_text(product) for product in read_catalog(catalog)]
            real_vectors, figures["build_crowdflower_titles"] = {}, {}
            for backend, embedder in builders.items():
                real_vectors[backend], figures["build_crowdflower_titles"][backend] = build_throughput(embedder, titles)
            figures["agreement_cosine_onnx_vs_torch"]["crowdflower_titles"] = cosines(real_vectors["onnx"], real_vectors["torch"])
            figures["search"]["crowdflower"] = compare_search(catalog, real_vectors, searchers, judgments)
    return figures


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", type=Path, default=PROJECT_ROOT / "var" / "demo", help="the demo store (its catalog.jsonl)")
    parser.add_argument("--crowdflower", type=Path, default=CROWDFLOWER,
                        help="the derived CrowdFlower catalog and judgments (skipped when absent)")
    parser.add_argument("--probe", choices=BACKENDS, help=argparse.SUPPRESS)
    parser.add_argument("--no-write", action="store_true", help="print the figures only")
    args = parser.parse_args(argv)
    if args.probe:
        probe(args.probe)
        return 0
    load_at_start = load_average()
    figures = measure(args.data_dir, args.crowdflower)
    print(json.dumps(figures, indent=2))
    if not args.no_write:
        notes = ["query: one thread, one text per call; build: every core, batches of 64, texts sorted by length.",
                 "cpu figures are this process's CPU time (all its threads): steadier than wall time on a shared machine; "
                 "products_per_cpu_second x cores is the build rate of an idle machine.",
                 "search recall@10: share of the torch index's top 10 (torch query vectors) that the ONNX index returns "
                 "(ONNX query vectors); hybrid = the configured DEFAULT_FUSION.",
                 "startup: wall time of a fresh interpreter until its first query vector (imports and model load included)."]
        if not (args.crowdflower / "catalog.csv").exists():
            notes.append(f"no CrowdFlower data at {args.crowdflower}: run bench/datasets/search_crowdflower.py first")
        print(f"wrote {write_result(NAME, figures, notes=notes, load_at_start=load_at_start)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
