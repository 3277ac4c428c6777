"""The ``shop-assistant`` command line.

Each subcommand is a thin shell over a package function, imported lazily so that
``shop-assistant token`` does not pay for loading PyTorch.  Every command takes
``--data-dir`` so several stores can live side by side.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import signal
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.settings import PROJECT_ROOT, Settings, load_settings

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from assistant.store.db import UnitOfWork
    from catalog_index.ann import IndexParams

DEFAULT_MODEL = PROJECT_ROOT / "models" / "current.tar.gz"


def _print_json(payload: object) -> None:
    print(json.dumps(payload, ensure_ascii=False))


STORE_NOT_SYNCED = 3  # exit code: the catalog change is done, the store's product mirror could not be updated


def _sync_store_mirror(settings: Settings, change: Callable[[Session], object]) -> int:
    """Apply ``change`` to the customer store's product mirror (orders and carts reference products by id).

    Runs after the catalog and index work is done, so an unreachable store loses none of it:
    the command says so plainly and names the command that catches the mirror up.
    """
    from sqlalchemy.exc import SQLAlchemyError

    try:
        with _store_unit_of_work(settings) as uow:
            change(uow.session)
            uow.commit()
    except (SQLAlchemyError, OSError) as error:
        reason = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
        print(f"warning: the customer store ({_store_location(settings)}) was NOT updated: {reason}\n"
              "the catalog change itself is done; once the store is reachable, run "
              "`shop-assistant catalog sync-store` to bring its product mirror up to the catalog", file=sys.stderr)
        return STORE_NOT_SYNCED
    print(f"customer store product mirror updated ({_store_location(settings)})")
    return 0


def _store_location(settings: Settings) -> str:
    """The database URL without credentials, for messages."""
    return settings.database_url.split("@")[-1]


def cmd_catalog_import(settings: Settings, args: argparse.Namespace) -> int:
    from assistant.store.product_sync import sync_products
    from catalog_index.importer import CatalogImportError, import_catalog

    try:
        report = import_catalog(Path(args.file), settings.catalog_path)
    except CatalogImportError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(report.summary())
    return _sync_store_mirror(settings, lambda session: sync_products(session, settings.catalog_path))


def cmd_catalog_sync_store(settings: Settings, args: argparse.Namespace) -> int:
    from assistant.store.product_sync import sync_products

    if not settings.catalog_path.exists():
        print(f"error: no catalog at {settings.catalog_path}; run `shop-assistant catalog import FILE` first", file=sys.stderr)
        return 1
    return _sync_store_mirror(settings, lambda session: sync_products(session, settings.catalog_path))


def _index_params(settings: Settings, args: argparse.Namespace) -> IndexParams:
    """Dense index parameters from the settings, each overridden by its command-line flag when given."""
    from catalog_index.ann import IndexParams

    return IndexParams.configured(settings, **vars(args))


def cmd_catalog_build_index(settings: Settings, args: argparse.Namespace) -> int:
    from catalog_index.build import build_index, ensure_index, index_status

    params = _index_params(settings, args)
    status = index_status(settings.catalog_path, settings.index_dir, settings.embedding_model)
    if args.if_stale and status.ok:
        print(f"index is up to date ({settings.index_dir})")
        return 0
    build = ensure_index if args.if_stale else build_index  # a stale index is caught up incrementally
    manifest = build(
        settings.catalog_path, settings.index_dir, settings.embedding_model,
        batch_size=settings.embed_batch_size, progress=not args.quiet, params=params,
    )
    print(f"indexed {manifest.product_count} products ({manifest.faiss_index_type}) in {manifest.build_seconds:.1f} s"
          f" -> {settings.index_dir}")
    return 0


def cmd_catalog_upsert(settings: Settings, args: argparse.Namespace) -> int:
    from assistant.store.product_sync import mirror_products
    from catalog_index.importer import CatalogImportError, normalize_file
    from catalog_index.update import upsert_products

    try:
        report, products = normalize_file(Path(args.file))
    except CatalogImportError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    if report.skipped or report.duplicates:
        print("\n".join(report.summary().splitlines()[1:]))  # the counts line and the skipped rows
    done = upsert_products(
        settings.catalog_path, settings.index_dir, settings.embedding_model, products,
        params=_index_params(settings, args), batch_size=settings.embed_batch_size,  # params: only if there is no index yet
    )
    print(done.summary())
    return _sync_store_mirror(settings, lambda session: mirror_products(session, products.values()))


def cmd_catalog_delete(settings: Settings, args: argparse.Namespace) -> int:
    from assistant.store.product_sync import withdraw_products
    from catalog_index.update import delete_products

    try:
        done = delete_products(
            settings.catalog_path, settings.index_dir, settings.embedding_model, args.ids,
            params=_index_params(settings, args), batch_size=settings.embed_batch_size,
        )
    except (KeyError, ValueError) as error:
        print(f"error: {error.args[0]}", file=sys.stderr)
        return 1
    print(done.summary())
    deleted = [product_id for product_id in dict.fromkeys(args.ids) if product_id not in done.unknown_ids]
    return _sync_store_mirror(settings, lambda session: withdraw_products(session, deleted))  # rows stay for history


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
    from assistant.recommend import Recommender, Request
    from assistant.store.db import UnitOfWork, make_engine, make_session_factory

    if bool(args.customer) == bool(args.customers):
        print("error: give exactly one of --customer ID or --customers FILE", file=sys.stderr)
        return 2
    customers = [args.customer] if args.customer else [
        line.strip() for line in Path(args.customers).read_text().splitlines() if line.strip()
    ]
    recommender = Recommender.for_settings(settings)
    request = Request(k=args.k, max_price=args.max_price)
    engine = make_engine(settings.database_url)
    try:
        factory = make_session_factory(engine)
        for customer_id in customers:
            with UnitOfWork(factory) as uow:
                items, personal = recommender.recommend(uow.session, customer_id, request)
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
    """The search result shape for a recommended product (no relevance score; ``in_stock`` null without stock data)."""
    from catalog_index.search import Hit, hit_to_json

    shaped: dict[str, object] = hit_to_json(Hit(product, 0.0))
    shaped.pop("score", None)
    if not product.get("stock"):
        shaped["in_stock"] = None
    return shaped


def _new_password(args: argparse.Namespace) -> str | None:
    """The password from stdin (``--password-stdin``) or typed twice at a prompt; never from argv."""
    import getpass

    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    password = getpass.getpass(f"password for {args.username}: ")
    if getpass.getpass("again: ") != password:
        print("the passwords differ; nothing was changed", file=sys.stderr)
        return None
    return password


def cmd_agents_add(settings: Settings, args: argparse.Namespace) -> int:
    """Create a console account; the password comes from stdin or a prompt, never argv."""
    from assistant.agents import AccountError, add_agent

    password = _new_password(args)
    if password is None:
        return 1
    try:
        with _store_unit_of_work(settings) as uow:
            agent = add_agent(uow.session, args.username, password, args.role, args.display_name)
            uow.commit()
            print(f"agent {agent.username} ({agent.role}, shown to shoppers as {agent.display_name!r}) created")
    except AccountError as error:
        print(f"not created: {error}", file=sys.stderr)
        return 1
    return 0


def cmd_agents_change(settings: Settings, args: argparse.Namespace) -> int:
    """``agents disable|enable|remove|reset-password USERNAME``: sessions of the account end at once."""
    from assistant.agents import AccountError, remove_agent, reset_password, set_disabled

    password = _new_password(args) if args.agents_command == "reset-password" else ""
    if password is None:
        return 1
    try:
        with _store_unit_of_work(settings) as uow:
            if args.agents_command == "remove":
                remove_agent(uow.session, args.username)
            elif args.agents_command == "reset-password":
                reset_password(uow.session, args.username, password)
            else:
                set_disabled(uow.session, args.username, args.agents_command == "disable")
            uow.commit()
    except AccountError as error:
        print(f"nothing changed: {error}", file=sys.stderr)
        return 1
    done = {"disable": "disabled", "enable": "enabled", "remove": "removed", "reset-password": "given a new password"}
    print(f"agent {args.username} {done[args.agents_command]}")
    return 0


@contextlib.contextmanager
def _store_unit_of_work(settings: Settings) -> Iterator[UnitOfWork]:
    """One transaction on the store, migrated to head first; the engine is closed afterwards."""
    from assistant.store.db import UnitOfWork, make_engine, make_session_factory, migrate

    migrate(settings.database_url)
    engine = make_engine(settings.database_url)
    try:
        with UnitOfWork(make_session_factory(engine)) as uow:
            yield uow
    finally:
        engine.dispose()


def cmd_nudge_run(settings: Settings, args: argparse.Namespace) -> int:
    from assistant.nudge import run_nudges
    from assistant.store.db import migrate

    migrate(settings.database_url)
    report = run_nudges(settings, dry_run=args.dry_run)
    for label in report.planned:
        print(f"would remind {label}")
    for label in report.quiet:
        print(f"quiet hours, later: {label}")
    for label in report.failed:
        print(f"failed: {label}", file=sys.stderr)
    print(report.summary())
    return 1 if report.failed else 0


def cmd_promotions_add(settings: Settings, args: argparse.Namespace) -> int:
    from datetime import datetime

    from sqlalchemy.exc import IntegrityError

    def when(text: str | None) -> datetime | None:
        return datetime.fromisoformat(text) if text else None

    scope = "category" if args.category else "product" if args.product else "store"
    try:
        with _store_unit_of_work(settings) as uow:
            promotion = uow.promotions.add(
                args.code, args.title, "percent" if args.percent else "amount", args.percent or args.amount,
                scope=scope, scope_value=args.category or args.product, min_basket=args.min_basket,
                segment=args.segment, segment_value=args.tier, starts_at=when(args.starts), ends_at=when(args.ends),
            )
            uow.commit()
    except ValueError as error:
        print(f"not added: {error}", file=sys.stderr)
        return 2
    except IntegrityError:
        print(f"not added: a promotion with code {args.code!r} already exists", file=sys.stderr)
        return 1
    print(f"promotion {promotion.code} added")
    return 0


def cmd_promotions_list(settings: Settings, args: argparse.Namespace) -> int:
    with _store_unit_of_work(settings) as uow:
        promotions = uow.promotions.active() if args.active else uow.promotions.all()
    columns = ("code", "title", "kind", "value", "scope", "scope_value", "min_basket", "segment", "segment_value",
               "starts_at", "ends_at")
    for promotion in promotions:
        row = {name: getattr(promotion, name) for name in columns}
        row["starts_at"], row["ends_at"] = (v.isoformat() if v else None for v in (promotion.starts_at, promotion.ends_at))
        if args.json:
            _print_json(row)
        else:
            print("  ".join(f"{name}={value}" for name, value in row.items() if value is not None))
    return 0


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
    upsert = add("upsert", cmd_catalog_upsert, "add or update products from a file, re-embedding only those", catalog)
    upsert.add_argument("file", help="products to add or replace (same formats as import)")
    delete = add("delete", cmd_catalog_delete, "delete products by id and update the index", catalog)
    delete.add_argument("ids", nargs="+", metavar="ID")
    add("sync-store", cmd_catalog_sync_store, "bring the customer store's product mirror up to the catalog", catalog)
    # upsert and delete keep the parameters the index was built with (its manifest's)
    build.add_argument("--ann-threshold", type=int, help="products above which an IVF index replaces exact search")
    build.add_argument("--nlist", type=int, help="IVF inverted lists (0: about sqrt(products))")
    build.add_argument("--nprobe", type=int, help="IVF lists searched per query")
    build.add_argument("--quantizer", choices=("flat", "sq8"), help="IVF vector storage")
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
    recommend.add_argument("--max-price", type=float, default=None, help="budget: nothing above this price")
    recommend.add_argument("--json", action="store_true", help="JSON output (the only format)")

    agents = sub.add_parser("agents", help="agent console accounts").add_subparsers(dest="agents_command", required=True)
    agent_add = add("add", cmd_agents_add, "create an agent account (password from a prompt or stdin)", agents)
    agent_add.add_argument("username")
    agent_add.add_argument("--role", choices=("agent", "admin"), default="agent")
    agent_add.add_argument("--password-stdin", action="store_true", help="read the password from the first line of stdin")
    agent_add.add_argument("--display-name", default="Support", help="the name shoppers see (default: Support)")
    for name, help_text in (("disable", "disable an account (its sessions end at once)"), ("enable", "re-enable an account"),
                            ("remove", "delete an account (its conversations go back to the queue)"),
                            ("reset-password", "set a new password (from a prompt or stdin); sessions end")):
        change = add(name, cmd_agents_change, help_text, agents)
        change.add_argument("username")
        if name == "reset-password":
            change.add_argument("--password-stdin", action="store_true", help="read the password from the first line of stdin")

    nudge = sub.add_parser("nudge", help="abandoned-cart reminders and product alerts").add_subparsers(
        dest="nudge_command", required=True)
    nudge_run = add("run", cmd_nudge_run, "remind customers of carts left alone and send due product alerts (cron-able)",
                    nudge)
    nudge_run.add_argument("--dry-run", action="store_true", help="list who would be reminded; send nothing")

    promotions = sub.add_parser("promotions", help="store offers").add_subparsers(dest="promotions_command", required=True)
    promo_add = add("add", cmd_promotions_add, "add an offer", promotions)
    promo_add.add_argument("code", help="unique short name, e.g. SHOES20")
    promo_add.add_argument("--title", required=True, help="what shoppers see, e.g. \"Running week\"")
    size = promo_add.add_mutually_exclusive_group(required=True)
    size.add_argument("--percent", type=float, help="percent off")
    size.add_argument("--amount", type=float, help="currency amount off")
    target = promo_add.add_mutually_exclusive_group()
    target.add_argument("--category", help="only this category or subcategory (default: whole store)")
    target.add_argument("--product", help="only this product id")
    promo_add.add_argument("--min-basket", type=float, help="minimum basket total")
    promo_add.add_argument("--segment", default="everyone", choices=("everyone", "new_customers", "loyalty_tier"))
    promo_add.add_argument("--tier", help="the loyalty tier, with --segment loyalty_tier")
    promo_add.add_argument("--starts", help="ISO date-time (UTC unless given); default: now")
    promo_add.add_argument("--ends", help="ISO date-time (UTC unless given); default: open-ended")
    promo_list = add("list", cmd_promotions_list, "list offers", promotions)
    promo_list.add_argument("--active", action="store_true", help="only offers valid now")
    promo_list.add_argument("--json", action="store_true")

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

    from assistant.observe.cli import register as register_analytics

    register_analytics(sub)  # analytics report|ingest|consume (issue #14)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    settings = load_settings(args.data_dir)
    return int(args.handler(settings, args))


if __name__ == "__main__":
    sys.exit(main())
