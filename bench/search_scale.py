"""Search at catalog scale: 10k, 100k and 1M products, exact against approximate (IVF) dense search.

Run as ``python -m bench.search_scale`` (``make bench``); writes the ``scale`` part of
``bench/results/search.json``.  Embedding a million products takes hours on 2 cores, so the
vectors are generated (and said to be):

* **10k and 100k**: generated *products* (the demo catalog's products cloned with new ids,
  titles carrying a variant word and model number, jittered prices) with generated vectors:
  each clone's vector is its source product's real embedding blended with another random
  product's and a little noise.  A full :class:`CatalogSearcher` (BM25, filters, fusion) is
  built with the configured parameters and timed on the shopper queries of ``search_bench``.
* **1M**: generated vectors only (same recipe), dense leg alone at the FAISS level, with the
  same filtered-search function the searcher uses.

Queries are the real embeddings of those shopper queries, so "embedding included" adds
each query's measured embedding time to its search.  Recall@10 is the ANN top 10 against
exact inner-product search over the same vectors.  Also measured at 100k: an incremental
upsert of a few products (only they are embedded; the BM25 part is rebuilt) and its parts.
"""

from __future__ import annotations

import argparse
import gc
import random
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, replace
from functools import partial
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from assistant.settings import Settings, load_settings
from bench.common import latency_summary, load_average, rss_bytes
from bench.search_bench import SHOPPER_NEEDS, selective_filters, shopper_queries, shopper_search, timed_searches
from bench.search_results import measured_stamp, update_search_results
from catalog_index.ann import IndexParams, describe, ivf_filtered_search, new_index, search_parameters
from catalog_index.artifacts import INDEX_FILE, PRODUCTS_FILE
from catalog_index.build import build_index_from_vectors, incremental_build
from catalog_index.embedder import SEARCH_THREADS, Embedder
from catalog_index.hybrid import EXACT_SUBSET_ROWS
from catalog_index.importer import read_catalog, write_jsonl_atomic
from catalog_index.lexical import LexicalIndex
from catalog_index.search import CatalogSearcher
from catalog_index.versions import writer_lock

SIZES = (10_000, 100_000, 1_000_000)
FULL_SEARCHER_MAX = 100_000  # sizes up to this get generated products and the whole hybrid searcher
BLEND = 0.6  # up to this share of a second product is mixed into a generated vector
NOISE = 0.6  # norm of the Gaussian noise added before normalizing (cosine to the source ~0.8)
EXACT_TIMED_QUERIES = 40  # exact single-query search at 1M is slow; time fewer queries
FILTER_SHARE = 0.01
UPSERTED = 10
PRODUCT_QUERIES = 200  # generated vectors not in the index, used as "similar products" queries
SEARCHER_DEPTH = 100  # candidates the searcher's dense leg asks for with k=10 (DEFAULT_FUSION.depth)
VARIANTS = ("Pro", "Lite", "Max", "Plus", "Mini", "Classic", "Sport", "Eco", "Air", "Prime")


def generated_vectors(anchors: np.ndarray, sources: np.ndarray, seed: int) -> np.ndarray:
    """One unit vector per source row: that anchor, a share of a random other one, and noise."""
    rng = np.random.default_rng(seed)
    out = np.empty((len(sources), anchors.shape[1]), dtype=np.float32)
    for start in range(0, len(sources), 100_000):  # in chunks, to bound temporary memory at 1M
        rows = sources[start : start + 100_000]
        share = rng.uniform(0, BLEND, (len(rows), 1)).astype(np.float32)
        chunk = anchors[rows] + share * anchors[rng.integers(0, len(anchors), len(rows))]
        chunk += rng.standard_normal(chunk.shape, dtype=np.float32) * (NOISE / np.sqrt(anchors.shape[1]))
        faiss.normalize_L2(chunk)
        out[start : start + len(rows)] = chunk
    return out


def generated_products(products: Sequence[dict[str, Any]], count: int, seed: int) -> tuple[list[dict[str, Any]], np.ndarray]:
    """``count`` products cloned from ``products`` (the originals first) and the source row of each."""
    rng = random.Random(seed)
    sources = np.arange(count, dtype=np.int64) % len(products)
    out = []
    for number, source in enumerate(sources.tolist()):
        product = dict(products[source])
        if number >= len(products):
            variant = VARIANTS[rng.randrange(len(VARIANTS))]
            product["id"] = f"{product['id']}-G{number}"
            product["title"] = f"{product['title']} {variant} {rng.randrange(100, 999)}{chr(65 + rng.randrange(26))}"
            product.pop("sku", None)
            if product.get("price") is not None:
                product["price"] = round(product["price"] * rng.uniform(0.8, 1.25), 2)
        out.append(product)
    return out, sources


def product_queries(anchors: np.ndarray, count: int) -> np.ndarray:
    """Generated product vectors not in the index (another seed): "more like this" queries."""
    sources = np.random.default_rng(count + 1).integers(0, len(anchors), PRODUCT_QUERIES)
    return generated_vectors(anchors, sources, seed=count + 1)


def recall_at_10(approximate: np.ndarray, exact: np.ndarray) -> float:
    """Mean share of the exact top 10 found in the approximate top 10 (FAISS's knn_intersection_measure)."""
    return round(float(np.mean([len(set(a) & set(e)) / 10 for a, e in zip(approximate, exact, strict=True)])), 4)


def _timed(call: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = call()
    return time.perf_counter() - started, result


def _exact_filtered_top10(vectors: np.ndarray, rows: np.ndarray, query: np.ndarray) -> set[int]:
    scores = vectors[rows] @ query
    return set(rows[np.argsort(-scores)[:10]].tolist())


def dense_figures(
    vectors: np.ndarray, queries: np.ndarray, embed_seconds: Sequence[float], params: IndexParams, product_queries: np.ndarray
) -> dict[str, Any]:
    """Exact and IVF dense search over ``vectors``: build, size, recall@10, single-query latency, 1% filter."""
    count = len(vectors)
    exact = faiss.IndexFlatIP(vectors.shape[1])
    exact.add(vectors)
    truth = exact.search(queries, 10)[1]
    product_truth = exact.search(product_queries, 10)[1]
    exact_seconds = [_timed(partial(exact.search, query[None], 10))[0] for query in queries[:EXACT_TIMED_QUERIES]]
    del exact
    ivf_params = replace(params, ann_threshold=1)  # IVF at every size, to compare with exact
    figures: dict[str, Any] = {
        "configured_kind": params.kind_for(count),
        "exact": {"latency_embedding_excluded": latency_summary(exact_seconds), "bytes_per_product": vectors.shape[1] * 4},
    }
    rng = np.random.default_rng(5)
    mask = np.zeros(count, dtype=bool)
    mask[rng.choice(count, int(count * FILTER_SHARE), replace=False)] = True
    passing = np.flatnonzero(mask)
    filtered_truth = [_exact_filtered_top10(vectors, passing, query) for query in queries]
    for quantizer in ("flat", "sq8") if count >= 1_000_000 else (params.quantizer,):
        gc.collect()
        before = rss_bytes()
        build_seconds, (index, persisted) = _timed(partial(new_index, vectors, replace(ivf_params, quantizer=quantizer)))
        rss_delta = rss_bytes() - before
        size = len(faiss.serialize_index(index))
        search_params = search_parameters(index, persisted)
        approximate = np.vstack([index.search(q[None], 10, params=search_params)[1] for q in queries])
        product_approximate = index.search(product_queries, 10, params=search_params)[1]
        seconds = [_timed(partial(index.search, q[None], 10, params=search_params))[0] for q in queries]
        filtered = [
            _timed(partial(ivf_filtered_search, index, persisted, q[None], mask, SEARCHER_DEPTH, EXACT_SUBSET_ROWS)) for q in queries
        ]
        assert all(len(hits) == SEARCHER_DEPTH and mask[list(hits)].all() for _, hits in filtered)
        filtered_recall = [
            len(set(sorted(hits, key=hits.__getitem__, reverse=True)[:10]) & want) / 10
            for (_, hits), want in zip(filtered, filtered_truth, strict=True)
        ]
        figures[f"ivf_{quantizer}"] = {
            "index_type": describe(index),
            "nprobe": persisted["nprobe"],
            "build_seconds": round(build_seconds, 2),
            "build_rss_delta_bytes_per_product": round(rss_delta / count, 1),
            "index_bytes_per_product": round(size / count, 1),
            "recall@10_vs_exact": recall_at_10(approximate, truth),
            "recall@10_vs_exact_product_as_query": recall_at_10(product_approximate, product_truth),
            "latency_embedding_excluded": latency_summary(seconds),
            "latency_embedding_included": latency_summary([s + e for s, e in zip(seconds, embed_seconds, strict=True)]),
            "filter_1pct": {
                "what": f"a random {FILTER_SHARE:.0%} of products passes; the searcher's filtered dense leg "
                f"(ivf_filtered_search, {SEARCHER_DEPTH} candidates; exact scoring up to {EXACT_SUBSET_ROWS} passing rows)",
                "latency_embedding_excluded": latency_summary([seconds for seconds, _ in filtered]),
                "recall@10_vs_exact_filtered": round(float(np.mean(filtered_recall)), 4),
            },
        }
        del index
    return figures


def searcher_figures(
    settings: Settings, embedder: Embedder, products: list[dict[str, Any]], vectors: np.ndarray, params: IndexParams, scratch: Path
) -> dict[str, Any]:
    """The whole hybrid searcher over generated products: build, load memory, latency, 1% filter, an upsert."""
    store = scratch / f"store-{len(products)}"
    write_jsonl_atomic(products, store / "catalog.jsonl")
    build_seconds, manifest = _timed(
        partial(build_index_from_vectors, store / "catalog.jsonl", store / "index", settings.embedding_model, vectors, params)
    )
    lexical_seconds, _ = _timed(partial(LexicalIndex.build, products))
    gc.collect()
    before = rss_bytes()
    load_seconds, searcher = _timed(partial(CatalogSearcher.load, store / "index", settings.embedding_model, embedder=embedder))
    gc.collect()
    rss_delta = rss_bytes() - before
    queries = shopper_queries()
    filters = selective_filters(products)
    filtered_calls = [partial(searcher.search, f"best {f.category}", filters=f) for f in filters]
    figures: dict[str, Any] = {
        "products": len(products),
        "index_type": manifest.faiss_index_type,
        "index_params": manifest.index_params,
        "build_seconds_from_vectors": round(build_seconds, 2),
        "of_which_bm25_seconds": round(lexical_seconds, 2),
        "load_seconds": round(load_seconds, 2),
        "rss_delta_at_load_bytes_per_product": round(rss_delta / len(products), 1),
        "faiss_file_bytes_per_product": round((store / "index" / INDEX_FILE).stat().st_size / len(products), 1),
        "search_parsed": {"queries": len(queries), **timed_searches(searcher, [partial(shopper_search, searcher, q) for q in queries])},
        "filter_about_1pct": {"filters": len(filters), **timed_searches(searcher, filtered_calls)},
    }
    configured = searcher.fusion
    references = {
        "bm25_alone": replace(configured, method="lexical"),
        "fusion_without_refinements": replace(configured, coverage_weight=0.0, similarity_weight=0.0, phrase_weight=0.0),
    }
    figures["search_parsed_same_run_references"] = {}
    for name, config in references.items():  # same run, same queries: ratios survive the shared machine's load
        searcher.fusion = config
        timed = timed_searches(searcher, [partial(shopper_search, searcher, q) for q in queries])
        figures["search_parsed_same_run_references"][name] = timed["embedding_cached"]
    searcher.fusion = configured
    filtered = figures["filter_about_1pct"]
    filtered["mean_share_of_catalog"] = round(filtered["mean_total_matching"] / len(products), 4)
    if len(products) >= FULL_SEARCHER_MAX:
        figures["incremental_upsert"] = upsert_figures(settings, embedder, store, products, searcher)
    return figures


def upsert_figures(
    settings: Settings, embedder: Embedder, store: Path, products: list[dict[str, Any]], searcher: CatalogSearcher
) -> dict[str, Any]:
    """Change a few products' titles and bring the index up to date incrementally; the live searcher must see it."""
    changed = [{**product, "title": f"{product['title']} Refresh {number}"} for number, product in enumerate(products[:UPSERTED])]
    by_id = {product["id"]: product for product in changed}
    write_jsonl_atomic([by_id.get(product["id"], product) for product in products], store / "catalog.jsonl")
    with writer_lock(store / "index"):
        seconds, changes = _timed(
            partial(incremental_build, store / "catalog.jsonl", store / "index", settings.embedding_model, embedder=embedder)
        )
    reload_seconds, result = _timed(partial(searcher.search, changed[0]["title"], k=1))
    assert result.hits[0].product["title"] == changed[0]["title"]
    return {
        "products_changed": UPSERTED,
        "embedded": changes.embedded,
        "seconds": round(seconds, 2),
        "next_search_with_reload_seconds": round(reload_seconds, 2),
        "what": "titles of 10 products changed; only they are embedded, the IVF index is edited in place, "
        "BM25 is rebuilt in full (see of_which_bm25_seconds), a new version is written and swapped in",
    }


def run(settings: Settings, sizes: Sequence[int] = SIZES) -> Path:
    load_at_start = load_average()
    params = IndexParams(settings.index_ann_threshold, settings.index_nlist, settings.index_nprobe, settings.index_quantizer)  # type: ignore[arg-type]
    demo = read_catalog(settings.index_dir / PRODUCTS_FILE)  # in the stored vectors' order
    stored = faiss.read_index(str(settings.index_dir / INDEX_FILE))
    anchors = stored.reconstruct_n(0, stored.ntotal)
    embedder = Embedder(settings.embedding_model, threads=SEARCH_THREADS)  # as a searcher embeds queries
    texts = shopper_queries()
    embedder.embed(["warm up"])
    timed = [_timed(partial(embedder.embed, [text])) for text in texts]
    embed_seconds = [seconds for seconds, _ in timed]
    queries = np.vstack([vector for _, vector in timed])
    sizes_out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="search-scale-") as scratch:
        for count in sizes:
            print(f"search scale: {count} products", flush=True)
            if count <= FULL_SEARCHER_MAX:
                products, sources = generated_products(demo, count, seed=count)
                vectors = generated_vectors(anchors, sources, seed=count)
                vectors[: len(demo)] = anchors[: min(count, len(demo))]  # the originals keep their real embeddings
                entry = {"data": "generated products (demo catalog cloned) with generated vectors"}
                entry["searcher"] = searcher_figures(settings, embedder, products, vectors, params, Path(scratch))
                del products
            else:
                sources = np.random.default_rng(count).integers(0, len(anchors), count)
                vectors = generated_vectors(anchors, sources, seed=count)
                entry = {"data": "generated vectors only (dense leg at the FAISS level)"}
            entry["dense"] = dense_figures(vectors, queries, embed_seconds, params, product_queries(anchors, count))
            sizes_out[str(count)] = entry
            del vectors
            gc.collect()
            shutil.rmtree(Path(scratch), ignore_errors=True)
            Path(scratch).mkdir(exist_ok=True)
    return update_search_results(
        {
            "scale": {
                "measured": measured_stamp(load_at_start),
                "configured_params": asdict(params),
                "queries": {"count": len(texts), "source": f"search_bench shopper queries ({len(SHOPPER_NEEDS)} needs)",
                            "embedding_latency": latency_summary(embed_seconds)},
                "generation": {"blend": BLEND, "noise": NOISE, "anchors": f"{len(anchors)} real demo product embeddings"},
                "sizes": sizes_out,
            }
        },
        notes=["scale: vectors are generated from the demo catalog's real embeddings (see bench/search_scale.py); "
               "recall@10 is measured against exact search over the same vectors, with the real shopper query embeddings."],
        load_at_start=load_at_start,
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=None, help="store directory (default: the demo store)")
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    args = parser.parse_args(argv)
    print(f"wrote {run(load_settings(args.data_dir), args.sizes)}")


if __name__ == "__main__":
    main()
