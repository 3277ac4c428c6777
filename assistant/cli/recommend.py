"""``shop-assistant recommend``: products for one customer or a file of them, one JSON line each."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from assistant.cli.common import Subparsers, add_command, print_json
from assistant.settings import Settings


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
            print_json({
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


def register(sub: Subparsers) -> None:
    recommend = add_command(sub, "recommend", cmd_recommend, "recommend products for a customer")
    recommend.add_argument("--customer")
    recommend.add_argument("--customers", help="file with one customer id per line (batch)")
    recommend.add_argument("--k", type=int, default=10)
    recommend.add_argument("--max-price", type=float, default=None, help="budget: nothing above this price")
    recommend.add_argument("--json", action="store_true", help="JSON output (the only format)")
