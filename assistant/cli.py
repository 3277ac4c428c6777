"""The ``shop-assistant`` command line.

Each subcommand is a thin shell over a package function, imported lazily so that
``shop-assistant token`` does not pay for loading PyTorch.  Every command takes
``--data-dir`` so several stores can live side by side.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from assistant.settings import PROJECT_ROOT, Settings, load_settings

DEFAULT_MODEL = PROJECT_ROOT / "models" / "current.tar.gz"


def _print_json(payload: object) -> None:
    print(json.dumps(payload, ensure_ascii=False))


def cmd_catalog_import(settings: Settings, args: argparse.Namespace) -> int:
    from catalog_index.importer import import_catalog

    report = import_catalog(Path(args.file), settings.catalog_path)
    print(report.summary())
    return 0


def cmd_catalog_build_index(settings: Settings, args: argparse.Namespace) -> int:
    from catalog_index.build import build_index, index_status

    status = index_status(settings.catalog_path, settings.index_dir, settings.embedding_model)
    if args.if_stale and status.ok:
        print(f"index is up to date ({settings.index_dir})")
        return 0
    manifest = build_index(
        settings.catalog_path, settings.index_dir, settings.embedding_model,
        batch_size=settings.embed_batch_size, progress=not args.quiet,
    )
    print(f"indexed {manifest.product_count} products in {manifest.build_seconds:.1f} s -> {settings.index_dir}")
    return 0


def cmd_catalog_search(settings: Settings, args: argparse.Namespace) -> int:
    from catalog_index.search import CatalogSearcher, result_to_json

    searcher = CatalogSearcher.load(settings.index_dir, settings.embedding_model)
    queries = [args.query] if args.query else Path(args.queries).read_text().splitlines()
    for query in queries:
        result = searcher.search_parsed(query, k=args.k)
        if args.json:
            _print_json({"query": query, **result_to_json(result)})
            continue
        print(f"# {query}")
        for rank, hit in enumerate(result.hits, 1):
            price = hit.product.get("price")
            print(f"{rank:3}. {hit.product['title']}  {'' if price is None else f'{price:.2f}'}  [{hit.product['id']}]")
    return 0


def cmd_history_import(settings: Settings, args: argparse.Namespace) -> int:
    from assistant.store.db import migrate
    from assistant.store.history_import import import_history

    migrate(settings.database_url)
    report = import_history(settings.database_url, Path(args.file))
    print(report.summary())
    return 0


def cmd_recommend(settings: Settings, args: argparse.Namespace) -> int:
    from assistant.recommend_basic import recommend
    from assistant.store.db import UnitOfWork, make_engine, make_session_factory
    from catalog_index.search import CatalogSearcher

    searcher = CatalogSearcher.load(settings.index_dir, settings.embedding_model)
    customers = [args.customer] if args.customer else Path(args.customers).read_text().split()
    engine = make_engine(settings.database_url)
    try:
        factory = make_session_factory(engine)
        for customer_id in customers:
            with UnitOfWork(factory) as uow:
                customer = uow.customers.get(customer_id)
                personal = customer is not None and customer.personalization_consent is not False
                items = recommend(uow.session, searcher, customer_id if personal else None, k=args.k)
            _print_json({
                "customer": customer_id,
                "personalized": personal,
                "items": [
                    {**_product_json(item.product), "reason": item.reason, "source": item.source}
                    for item in items
                ],
            })
    finally:
        engine.dispose()
    return 0


def _product_json(product: dict[str, object]) -> dict[str, object]:
    """The search result shape for a recommended product (no relevance score)."""
    from catalog_index.search import Hit, hit_to_json

    shaped: dict[str, object] = hit_to_json(Hit(product, 0.0))
    shaped.pop("score", None)
    return shaped


def cmd_db_migrate(settings: Settings, args: argparse.Namespace) -> int:
    from assistant.store.db import migrate

    migrate(settings.database_url)
    print(f"customer store at head: {settings.database_url.split('@')[-1]}")
    return 0


def cmd_demo_setup(settings: Settings, args: argparse.Namespace) -> int:
    from assistant.demo_setup import set_up_demo_store

    set_up_demo_store(settings, seed=args.seed, progress=not args.quiet)
    return 0


def cmd_token(settings: Settings, args: argparse.Namespace) -> int:
    from assistant.identity import sign_customer_token

    print(sign_customer_token(args.customer, settings.store_secret, ttl_seconds=args.ttl))
    return 0


def cmd_web(settings: Settings, args: argparse.Namespace) -> int:
    from assistant.web.app import run_web

    run_web(settings, port=args.port, demo_mode=args.demo)
    return 0


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def cmd_up(settings: Settings, args: argparse.Namespace) -> int:
    from assistant.launcher import Ports, StackError, running_stack

    ports = Ports()
    signal.signal(signal.SIGTERM, _interrupt)  # `kill` stops the children as Ctrl-C does
    try:
        with running_stack(settings, Path(args.model), ports, demo_mode=args.demo):
            print(
                f"\nShop Assistant is running on the store in {settings.data_dir}\n"
                f"  chat in the browser:   http://127.0.0.1:{ports.web}/\n"
                f"  chat in the terminal:  .venv/bin/shop-assistant chat\n"
                f"  Rasa HTTP API:         http://127.0.0.1:{ports.rasa}/ (token in var/secrets.json)\n"
                f"  logs:                  {settings.data_dir / 'logs'}\n"
                "Press Ctrl-C to stop.",
                flush=True,
            )
            try:
                while True:
                    time.sleep(3600)
            except KeyboardInterrupt:
                # A second Ctrl-C must not cut the clean shutdown short.
                signal.signal(signal.SIGINT, signal.SIG_IGN)
                signal.signal(signal.SIGTERM, signal.SIG_IGN)
                print("\nstopping...", flush=True)
    except KeyboardInterrupt:
        print("\ninterrupted while starting; stopped", file=sys.stderr)
        return 130
    except StackError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print("stopped", flush=True)
    return 0


def cmd_chat(settings: Settings, args: argparse.Namespace) -> int:
    from assistant.chat_client import chat

    token = None
    if args.customer:
        from assistant.identity import sign_customer_token

        token = sign_customer_token(args.customer, settings.store_secret)
    chat(args.url, token)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="shop-assistant", description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", help="store directory (catalog, index, customer database)")
    sub = parser.add_subparsers(dest="command", required=True)

    def add(name: str, handler: Callable[[Settings, argparse.Namespace], int], help_text: str,
            parent: argparse._SubParsersAction[argparse.ArgumentParser] = sub) -> argparse.ArgumentParser:
        command = parent.add_parser(name, help=help_text)
        command.add_argument("--data-dir", default=argparse.SUPPRESS, help="store directory")
        command.set_defaults(handler=handler)
        return command

    catalog = sub.add_parser("catalog", help="import, index and search the product catalog").add_subparsers(
        dest="catalog_command", required=True
    )
    add("import", cmd_catalog_import, "import a catalog (JSON Lines or CSV)", catalog).add_argument("file")
    build = add("build-index", cmd_catalog_build_index, "embed the catalog and build the FAISS index", catalog)
    build.add_argument("--if-stale", action="store_true", help="do nothing when the index matches the catalog")
    build.add_argument("--quiet", action="store_true", help="no progress bar")
    search = add("search", cmd_catalog_search, "search the catalog", catalog)
    search.add_argument("query", nargs="?")
    search.add_argument("--queries", help="file with one query per line (batch)")
    search.add_argument("--k", type=int, default=10)
    search.add_argument("--json", action="store_true")

    history = sub.add_parser("history", help="customer history").add_subparsers(dest="history_command", required=True)
    add("import", cmd_history_import, "import orders and events (CSV/JSON Lines or a history dir)", history).add_argument("file")

    recommend = add("recommend", cmd_recommend, "recommend products for a customer")
    recommend.add_argument("--customer")
    recommend.add_argument("--customers", help="file with one customer id per line (batch)")
    recommend.add_argument("--k", type=int, default=10)
    recommend.add_argument("--json", action="store_true", help="JSON output (the only format)")

    db = sub.add_parser("db", help="customer store").add_subparsers(dest="db_command", required=True)
    add("migrate", cmd_db_migrate, "run schema migrations to head", db)

    demo = sub.add_parser("demo-store", help="the generated demo store").add_subparsers(dest="demo_command", required=True)
    setup = add("setup", cmd_demo_setup, "generate (if absent), import history, build the index (if stale)", demo)
    setup.add_argument("--seed", type=int, default=42)
    setup.add_argument("--quiet", action="store_true")

    token = add("token", cmd_token, "print a store-signed customer token (what the store's backend issues)")
    token.add_argument("--customer", required=True)
    token.add_argument("--ttl", type=int, default=3600)

    web = add("web", cmd_web, "run the web app (widget, REST API)")
    web.add_argument("--port", type=int, default=None)
    web.add_argument("--demo", action="store_true", help="demo storefront with a demo login")

    up = add("up", cmd_up, "start action server, Rasa and the web app; Ctrl-C stops them")
    up.add_argument("--model", default=str(DEFAULT_MODEL))
    up.add_argument("--demo", action="store_true")

    chat = add("chat", cmd_chat, "chat with the running assistant in the terminal")
    chat.add_argument("--url", default="http://127.0.0.1:8080")
    chat.add_argument("--customer", help="chat as this customer (signs a token with the local store secret)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    settings = load_settings(args.data_dir)
    return int(args.handler(settings, args))


if __name__ == "__main__":
    sys.exit(main())
