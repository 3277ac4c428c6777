"""``shop-assistant catalog``: import, index, change and search the product catalog.

Every change to the catalog also updates the customer store's product mirror, last, so an
unreachable store loses none of the catalog work (``store_steps.sync_store_mirror``).
"""

from __future__ import annotations

import argparse

from assistant.cli.common import Subparsers, add_command, add_group, input_file, print_json
from assistant.errors import UsageError, UserError
from assistant.settings import Settings
from assistant.store_steps import (
    build_catalog_index,
    index_params,
    index_state,
    mirror_catalog,
    require_catalog,
    sync_store_mirror,
)


def cmd_import(settings: Settings, args: argparse.Namespace) -> int:
    """Replace the catalog; a file without one usable product stops here, the old catalog kept."""
    from catalog_index.importer import import_catalog

    report = import_catalog(input_file(args.file, "catalog file"), settings.catalog_path)
    print(report.summary())
    return sync_store_mirror(settings, lambda uow: mirror_catalog(uow, settings))


def cmd_sync_store(settings: Settings, args: argparse.Namespace) -> int:
    require_catalog(settings)
    return sync_store_mirror(settings, lambda uow: mirror_catalog(uow, settings))


def cmd_build_index(settings: Settings, args: argparse.Namespace) -> int:
    params = index_params(settings, **vars(args))
    if args.if_stale and index_state(settings).ok:
        print(f"index is up to date ({settings.index_dir})")
        return 0
    # a stale index is caught up incrementally
    manifest = build_catalog_index(settings, params, progress=not args.quiet, incremental=args.if_stale)
    print(
        f"indexed {manifest.product_count} products ({manifest.faiss_index_type}) in {manifest.build_seconds:.1f} s"
        f" -> {settings.index_dir}"
    )
    return 0


def cmd_upsert(settings: Settings, args: argparse.Namespace) -> int:
    from catalog_index.importer import normalize_file
    from catalog_index.update import upsert_products

    report, products = normalize_file(input_file(args.file, "products file"))
    if report.skipped or report.duplicates:
        print("\n".join(report.summary().splitlines()[1:]))  # the counts line and the skipped rows
    done = upsert_products(
        settings.catalog_path,
        settings.index_dir,
        settings.embedding,
        products,
        params=index_params(settings, **vars(args)),
        batch_size=settings.embed_batch_size,  # params: only if there is no index yet
        progress=not args.quiet,
    )
    print(done.summary())
    return sync_store_mirror(settings, lambda uow: uow.products.mirror(products.values()))


def cmd_delete(settings: Settings, args: argparse.Namespace) -> int:
    from catalog_index.update import delete_products

    try:
        done = delete_products(
            settings.catalog_path,
            settings.index_dir,
            settings.embedding,
            args.ids,
            params=index_params(settings, **vars(args)),
            batch_size=settings.embed_batch_size,
        )
    except (KeyError, ValueError) as error:  # unknown ids, or a delete that would empty the catalog
        raise UserError(error.args[0]) from None
    print(done.summary())
    deleted = [product_id for product_id in dict.fromkeys(args.ids) if product_id not in done.unknown_ids]
    return sync_store_mirror(settings, lambda uow: uow.products.withdraw(deleted))  # rows stay for history


def cmd_search(settings: Settings, args: argparse.Namespace) -> int:
    from catalog_index.request import SearchRequest
    from catalog_index.search import CatalogSearcher, result_to_json

    if bool(args.query) == bool(args.queries):
        raise UsageError("give one QUERY or --queries FILE", 'e.g. `shop-assistant catalog search "red running shoes"`')
    queries = (
        [args.query]
        if args.query
        else [
            line
            for line in input_file(args.queries, "queries file").read_text(encoding="utf-8").splitlines()
            if line.strip()
        ]
    )
    if not queries:
        raise UserError(f"no queries in {args.queries}", "write one query per line")
    searcher = CatalogSearcher.load(settings.index_dir, settings.embedding)
    for query in queries:
        result = searcher.run(SearchRequest.parse(query, searcher.vocabulary, k=args.k))
        if args.json:
            print_json({"query": query, **result_to_json(result)})
            continue
        print(f"# {query}")
        for rank, hit in enumerate(result.hits, 1):
            price = hit.product.get("price")
            print(f"{rank:3}. {hit.product['title']}  {'' if price is None else f'{price:.2f}'}  [{hit.product['id']}]")
    return 0


def register(sub: Subparsers) -> None:
    catalog = add_group(sub, "catalog", "import, index and search the product catalog")
    add_command(
        catalog,
        "import",
        cmd_import,
        "import a catalog (JSON Lines or CSV), replacing the current one",
        "shop-assistant --data-dir var/mystore catalog import products.csv",
    ).add_argument("file", help="JSON Lines, a JSON array or CSV; only id and title are required")
    build = add_command(
        catalog,
        "build-index",
        cmd_build_index,
        "embed the catalog and build the FAISS index",
        "shop-assistant --data-dir var/mystore catalog build-index --if-stale",
    )
    build.add_argument("--if-stale", action="store_true", help="do nothing when the index matches the catalog")
    build.add_argument("--quiet", action="store_true", help="no progress bar")
    upsert = add_command(
        catalog,
        "upsert",
        cmd_upsert,
        "add or update products from a file, re-embedding only those",
        "shop-assistant catalog upsert changed_products.csv",
    )
    upsert.add_argument("file", help="products to add or replace (same formats as import)")
    upsert.add_argument("--quiet", action="store_true", help="no progress bar")
    delete = add_command(
        catalog,
        "delete",
        cmd_delete,
        "delete products by id and update the index",
        "shop-assistant catalog delete SKU-123 SKU-456",
    )
    delete.add_argument("ids", nargs="+", metavar="ID", help="product ids")
    add_command(
        catalog,
        "sync-store",
        cmd_sync_store,
        "bring the customer store's product mirror up to the catalog",
        "shop-assistant catalog sync-store",
    )
    # upsert and delete keep the parameters the index was built with (its manifest's)
    build.add_argument(
        "--ann-threshold",
        type=int,
        help="products above which an IVF index replaces exact search (default: SHOP_INDEX_ANN_THRESHOLD)",
    )
    build.add_argument(
        "--nlist", type=int, help="IVF inverted lists, 0: about sqrt(products) (default: SHOP_INDEX_NLIST)"
    )
    build.add_argument("--nprobe", type=int, help="IVF lists searched per query (default: SHOP_INDEX_NPROBE)")
    build.add_argument(
        "--quantizer", choices=("flat", "sq8"), help="IVF vector storage (default: SHOP_INDEX_QUANTIZER)"
    )
    search = add_command(
        catalog,
        "search",
        cmd_search,
        "search the catalog",
        'shop-assistant catalog search "red running shoes under 80" --k 5\n'
        "shop-assistant catalog search --queries queries.txt --k 10 --json",
    )
    search.add_argument("query", nargs="?", help="what a shopper would type")
    search.add_argument("--queries", help="file with one query per line (batch)")
    search.add_argument("--k", type=int, default=10, help="results per query")
    search.add_argument("--json", action="store_true", help="one JSON line per query (query, hits)")
