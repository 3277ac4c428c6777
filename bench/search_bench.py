"""How fast the catalog index is built, how much memory it takes, and how fast it answers.

Run as ``python -m bench.search_bench`` (``make bench``) on the demo store.  Writes its part
of ``bench/results/search.json`` (``bench/search_scale.py`` measures 10k to 1M products).
Search latency is measured twice over the same queries:
once paying for the query embedding as a first-time query does, once with the vector
already cached as "show more" and refinements get it, so the two costs can be told apart.
"""

from __future__ import annotations

import argparse
import gc
import random
import statistics
import time
from collections import Counter
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import torch

from assistant.settings import Settings, load_settings
from bench.common import latency_summary, load_average, rss_bytes
from bench.search_results import update_search_results
from catalog_index.artifacts import INDEX_FILE, Manifest
from catalog_index.build import ensure_index, index_status
from catalog_index.embedder import BUILD_THREADS, Embedder, document_text
from catalog_index.importer import read_catalog
from catalog_index.request import SearchRequest
from catalog_index.search import CatalogSearcher, SearchFilters, SearchResult

BATCH_SIZES = (16, 32, 64, 128)
THREAD_COUNTS = (1, 2)
EMBED_SAMPLE = 512
SELECTIVE_SHARE = (0.004, 0.02)  # a filter passing 0.4%..2% of the catalog counts as selective (~1%)
SELECTIVE_FILTERS = 25
WARMUP_QUERIES = ("warm up the model", "something nice for the kitchen", "gift for a runner")

# (what a shopper types, a price cap they might add, a colour they might add or None)
SHOPPER_NEEDS: tuple[tuple[str, int, str | None], ...] = (
    ("waterproof hiking boots", 150, "black"),
    ("lightweight running shoes", 120, "grey"),
    ("trail running shoes with good grip", 130, "blue"),
    ("comfortable sneakers for walking", 80, "navy"),
    ("leather dress shoes for a wedding", 160, "tan"),
    ("sandals for the beach", 60, "brown"),
    ("warm slippers", 50, "grey"),
    ("cotton t-shirt", 30, "red"),
    ("slim fit jeans", 80, "blue"),
    ("summer dress", 75, "navy"),
    ("hoodie with a zip", 70, "black"),
    ("high waisted leggings for yoga", 50, "olive"),
    ("rain jacket that packs small", 140, "pink"),
    ("down jacket for winter", 230, "olive"),
    ("athletic socks pack", 25, "black"),
    ("noise cancelling headphones", 200, "white"),
    ("bluetooth speaker for the shower", 100, "teal"),
    ("fast usb-c charger", 50, "white"),
    ("power bank for travel", 60, "blue"),
    ("rugged phone case", 35, "pink"),
    ("gaming laptop", 1300, "black"),
    ("smartphone with a good camera", 700, "blue"),
    ("fitness smartwatch", 250, "silver"),
    ("wireless computer mouse", 60, "white"),
    ("mechanical keyboard", 120, "grey"),
    ("65 inch tv", 1000, "black"),
    ("home printer", 350, "white"),
    ("printer ink cartridges", 40, None),
    ("big comfortable sofa", 1500, "grey"),
    ("ergonomic office chair", 480, "black"),
    ("standing desk", 400, "white"),
    ("oak bookshelf", 150, "oak"),
    ("wooden dresser with drawers", 500, "walnut"),
    ("queen bed frame", 550, "grey"),
    ("soft bed sheets", 100, "cream"),
    ("fluffy bath towels", 75, "white"),
    ("throw pillows for the couch", 30, "beige"),
    ("bedside table lamp", 120, "teal"),
    ("large area rug for the living room", 230, "cream"),
    ("scented candles that smell like vanilla", 35, "white"),
    ("air fryer", 130, "black"),
    ("blender for smoothies", 150, "red"),
    ("espresso coffee maker", 400, "red"),
    ("non stick cookware set", 260, "silver"),
    ("sharp chef knife", 160, "black"),
    ("insulated water bottle", 25, "red"),
    ("ground coffee beans", 20, None),
    ("coffee pods", 30, None),
    ("green tea", 15, None),
    ("healthy snacks", 12, None),
    ("building sets for kids", 120, "multicolor"),
    ("board game for family night", 35, None),
    ("jigsaw puzzle 1000 pieces", 15, None),
    ("remote control car", 100, "red"),
    ("plush teddy bear", 20, "brown"),
    ("science kit for a 10 year old", 85, "multicolor"),
    ("tent for four people", 500, "green"),
    ("sleeping bag for cold nights", 200, "green"),
    ("hiking backpack", 170, "orange"),
    ("yoga mat", 60, "purple"),
    ("adjustable dumbbells", 250, "black"),
    ("mountain bike", 1200, "blue"),
    ("grain free dog food", 70, None),
    ("cat food for kittens", 35, None),
    ("clumping cat litter", 25, None),
    ("orthopedic dog bed", 95, "grey"),
    ("chew toys for dogs", 15, "orange"),
    ("dog leash", 45, "blue"),
    ("diapers size 3", 50, None),
    ("baby wipes", 15, None),
    ("stroller that folds", 360, "black"),
    ("car seat for a toddler", 300, "navy"),
    ("crib", 300, "white"),
    ("baby clothes", 40, "yellow"),
    ("moisturizer for dry skin", 35, None),
    ("shampoo for curly hair", 20, None),
    ("sunscreen spf 50", 18, None),
    ("hair dryer", 200, "rose gold"),
    ("vitamin d", 15, None),
    ("garden hose", 55, "green"),
    ("lawn mower", 500, "green"),
    ("gas grill", 350, "black"),
    ("planters for herbs", 60, "white"),
    ("mystery novel", 20, None),
    ("cookbook for beginners", 25, None),
    ("notebook for journaling", 15, "black"),
)
QUERY_ANGLES = (
    "best {}",
    "{} with good reviews",
    "recommend {}",
    "{} for a gift",
    "durable {}",
    "{} on sale",
    "quality {}",
    "popular {}",
)


def shopper_queries() -> list[str]:
    """Every need phrased plainly, with a price cap, and with a colour (or "cheap" when colourless).

    Every fourth need is also asked with both a colour and a price cap, the longest form.
    """
    queries: list[str] = []
    for number, (text, price, color) in enumerate(SHOPPER_NEEDS):
        queries += [text, f"{text} under ${price}", f"{color} {text}" if color else f"cheap {text}"]
        if color and number % 4 == 0:
            queries.append(f"{text} in {color} under ${price}")
    return queries


def selective_filters(products: Sequence[dict[str, Any]]) -> list[SearchFilters]:
    """Subcategory-and-colour filters passing about 1% of the catalog, largest first."""
    low, high = (round(share * len(products)) for share in SELECTIVE_SHARE)
    counts = Counter((p["subcategory"], p["color"]) for p in products if p.get("subcategory") and p.get("color"))
    chosen = sorted((n, sub, color) for (sub, color), n in counts.items() if low <= n <= high)[::-1][:SELECTIVE_FILTERS]
    return [SearchFilters(category=sub, colors=[color]) for _, sub, color in chosen]


def embedding_throughput(embedder: Embedder, products: Sequence[dict[str, Any]], sample: int) -> list[dict[str, Any]]:
    """Products embedded per second for each batch size and torch thread count."""
    texts = [document_text(p) for p in random.Random(7).sample(list(products), min(sample, len(products)))]
    embedder.embed(texts[:16], batch_size=16)  # first call pays for lazy initialisation
    original_threads = torch.get_num_threads()
    runs = []
    try:
        for threads in THREAD_COUNTS:
            torch.set_num_threads(threads)
            for batch_size in BATCH_SIZES:
                started = time.perf_counter()
                embedder.embed(texts, batch_size=batch_size)
                seconds = time.perf_counter() - started
                runs.append(
                    {
                        "threads": threads,
                        "batch_size": batch_size,
                        "products": len(texts),
                        "seconds": round(seconds, 3),
                        "products_per_second": round(len(texts) / seconds, 1),
                    }
                )
                print(
                    f"  embed threads={threads} batch={batch_size}: {len(texts) / seconds:.1f} products/s", flush=True
                )
    finally:
        torch.set_num_threads(original_threads)
    return runs


def _forget_query_vectors(searcher: CatalogSearcher) -> None:
    """Empty the searcher's query-vector cache so the next search embeds its text as a new query does."""
    searcher._query_vector.cache_clear()  # private on purpose: the bench measures exactly what this cache saves


def shopper_search(searcher: CatalogSearcher, text: str) -> SearchResult:
    """What a shopper's words find, k=10: the request parsed as chat, the REST API and the CLI parse it."""
    return searcher.run(SearchRequest.parse(text, searcher.vocabulary))


def timed_searches(searcher: CatalogSearcher, calls: Sequence[Callable[[], SearchResult]]) -> dict[str, Any]:
    """Latency of each call with the query embedding paid (cache emptied first) and with it cached.

    The two are timed back to back for each call, so a burst of load from other processes
    on the shared machine lands on both figures alike instead of skewing one of them.  The
    process's CPU time is recorded beside the wall time: on the shared machine the wall time
    mostly says how long the search waited for a core, the CPU time what it cost.
    """
    with_embedding: list[float] = []
    cached: list[float] = []
    cpu: dict[str, list[float]] = {"embedding_included": [], "embedding_cached": []}
    results = []
    for call in calls:
        _forget_query_vectors(searcher)
        started, started_cpu = time.perf_counter(), time.process_time()
        call()
        with_embedding.append(time.perf_counter() - started)
        cpu["embedding_included"].append(time.process_time() - started_cpu)
        started, started_cpu = time.perf_counter(), time.process_time()
        results.append(call())
        cached.append(time.perf_counter() - started)
        cpu["embedding_cached"].append(time.process_time() - started_cpu)
    return {
        "embedding_included": latency_summary(with_embedding),
        "embedding_cached": latency_summary(cached),
        "cpu": {name: latency_summary(seconds) for name, seconds in cpu.items()},
        "mean_total_matching": round(statistics.fmean(r.total_matching for r in results), 1),
        "empty_results": sum(1 for r in results if not r.hits),
    }


def query_embedding_latency(embedder: Embedder, texts: Sequence[str]) -> dict[str, Any]:
    """The embedding alone, one query at a time, as a search pays for it."""
    seconds = []
    for text in texts:
        started = time.perf_counter()
        embedder.embed([text])
        seconds.append(time.perf_counter() - started)
    return latency_summary(seconds)


def build_figures(settings: Settings) -> dict[str, Any]:
    """The index's build time as its manifest records it, building the index first if it is not fresh.

    A build that only adds or updates the lexical part reuses the stored vectors and takes
    seconds, so :func:`run` adds a full-build estimate from the measured embedding throughput.
    """
    fresh = index_status(settings.catalog_path, settings.index_dir, settings.embedding_model).ok
    manifest = ensure_index(
        settings.catalog_path,
        settings.index_dir,
        settings.embedding_model,
        batch_size=settings.embed_batch_size,
        progress=False,
    )
    return {
        "source": "manifest of the existing fresh index" if fresh else "built by this run",
        "built_at": manifest.built_at,
        "products": manifest.product_count,
        "manifest_build_seconds": manifest.build_seconds,
        "batch_size": settings.embed_batch_size,
        "faiss_index_type": manifest.faiss_index_type,
    }


def memory_figures(settings: Settings, embedder: Embedder) -> tuple[CatalogSearcher, dict[str, Any]]:
    """Load the searcher (model already loaded) and measure what the index adds to the process."""
    gc.collect()
    before = rss_bytes()
    searcher = CatalogSearcher.load(settings.index_dir, settings.embedding_model, embedder=embedder)
    gc.collect()
    after = rss_bytes()
    ntotal = len(searcher)
    index_bytes = (settings.index_dir / INDEX_FILE).stat().st_size
    return searcher, {
        "products": ntotal,
        "dimension": Manifest.read(settings.index_dir).dimension,
        "faiss_index_file_bytes": index_bytes,
        "faiss_bytes_per_product": round(index_bytes / ntotal, 1),
        "rss_delta_at_load_bytes": after - before,
        "rss_delta_per_product_bytes": round((after - before) / ntotal, 1),
        "index_dir_bytes": sum(path.stat().st_size for path in settings.index_dir.rglob("*") if path.is_file()),
        "rss_delta_covers": "everything CatalogSearcher.load reads and builds besides the model (loaded before)",
    }


def run(settings: Settings, embed_sample: int = EMBED_SAMPLE) -> Path:
    """Measure everything and write ``search.json``; returns its path."""
    load_at_start = load_average()
    build_threads = BUILD_THREADS  # what index builds embed with
    print("search bench: index build", flush=True)
    build = build_figures(settings)
    products = read_catalog(settings.catalog_path)
    embedder = Embedder(settings.embedding_model)
    searcher, memory = memory_figures(settings, embedder)
    for text in WARMUP_QUERIES:
        shopper_search(searcher, text)

    print("search bench: latency", flush=True)
    queries = shopper_queries()
    parsed_texts = [t for t in dict.fromkeys(shopper_search(searcher, q).text for q in queries) if t]
    filters = selective_filters(products)
    filtered_calls = [
        partial(searcher.search, angle.format(f.category), filters=f) for angle in QUERY_ANGLES for f in filters
    ]
    broad = SearchFilters(price_max=statistics.median(p["price"] for p in products if p.get("price") is not None))
    broad_calls = [partial(searcher.search, text, filters=broad) for text in parsed_texts]
    latency = {
        "free_text_parsed": {
            "what": "parsed requests (SearchRequest.parse, then run) over shopper queries, with and without price/colour constraints, k=10",
            "queries": len(queries),
            **timed_searches(searcher, [partial(shopper_search, searcher, query) for query in queries]),
        },
        "selective_filter": {
            "what": f"search with a subcategory+colour filter passing {SELECTIVE_SHARE[0]:.1%}..{SELECTIVE_SHARE[1]:.1%} "
            "of the catalog (FAISS searches only the passing rows), k=10",
            "filters": [f.to_dict() for f in filters],
            "searches": len(filtered_calls),
            **timed_searches(searcher, filtered_calls),
        },
        "broad_filter": {
            "what": "search with price <= catalog median (about half passes: over-fetch and drop), k=10",
            "searches": len(broad_calls),
            **timed_searches(searcher, broad_calls),
        },
        "query_embedding_only": {
            "what": "Embedder.embed([text]) alone",
            **query_embedding_latency(embedder, parsed_texts),
        },
    }
    latency["selective_filter"]["mean_share_of_catalog"] = round(
        latency["selective_filter"]["mean_total_matching"] / len(searcher), 4
    )

    print("search bench: embedding throughput", flush=True)
    throughput = embedding_throughput(embedder, products, embed_sample)
    best = max(throughput, key=lambda run: run["products_per_second"])
    as_built = next(
        (
            r
            for r in throughput
            if r["threads"] == build_threads and r["batch_size"] == settings.embed_batch_size
        ),
        best,
    )
    build["full_build_embedding_estimate"] = {
        "seconds": round(build["products"] / as_built["products_per_second"], 1),
        "from_run": {key: as_built[key] for key in ("threads", "batch_size", "products_per_second")},
    }
    return update_search_results(
        {
            "catalog": {"store": str(settings.data_dir), "products": len(products)},
            "index_build": build,
            "index_memory": memory,
            "search_latency": latency,
            "embedding_throughput": {
                "sample_products": min(embed_sample, len(products)),
                "runs": throughput,
                "best": {k: best[k] for k in ("threads", "batch_size", "products_per_second")},
            },
        },
        load_at_start=load_at_start,
        notes=[
            "index_build.manifest_build_seconds comes from whichever run built the index, under that run's load; "
            "when that build reused the previous index's vectors (only the lexical part changed) it is seconds, "
            "so full_build_embedding_estimate (all products at the store's batch size) is the figure for a new catalog.",
            "rss_delta_at_load is a whole-process RSS difference: allocator reuse can make it smaller than the data loaded.",
        ],
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=None, help="store directory (default: the demo store)")
    parser.add_argument("--embed-sample", type=int, default=EMBED_SAMPLE, help="products embedded per throughput run")
    args = parser.parse_args(argv)
    path = run(load_settings(args.data_dir), args.embed_sample)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
