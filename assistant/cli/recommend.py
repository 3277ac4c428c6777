"""``shop-assistant recommend``: products for one customer or a file of them, one JSON line each."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from assistant.cli.common import Subparsers, add_command, input_file, print_json
from assistant.errors import UsageError, UserError
from assistant.settings import Settings

if TYPE_CHECKING:
    from catalog_index.schema import Product


def cmd_recommend(settings: Settings, args: argparse.Namespace) -> int:
    if bool(args.customer) == bool(args.customers):
        raise UsageError("give exactly one of --customer ID or --customers FILE")
    customers = (
        [args.customer]
        if args.customer
        else [
            line.strip()
            for line in input_file(args.customers, "customers file").read_text(encoding="utf-8").splitlines()
            if line.strip()
        ]
    )
    if not customers:
        raise UserError(f"no customer ids in {args.customers}", "write one customer id per line")
    from assistant.recommend import Recommender, Request  # after the checks: loading the recommender takes seconds
    from assistant.store.db import open_store

    recommender = Recommender.for_settings(settings)
    request = Request(k=args.k, max_price=args.max_price)
    with open_store(settings.database_url) as store:
        for customer_id in customers:
            with store.unit_of_work() as uow:
                items, personal = recommender.recommend(uow, customer_id, request)
            print_json(
                {
                    "customer": customer_id,
                    "personalized": personal,
                    "items": [
                        {**_product_json(item.product), "reason": item.reason, "source": item.source} for item in items
                    ],
                }
            )
    return 0


def _product_json(product: Product) -> dict[str, object]:
    """The search result shape for a recommended product (no relevance score; ``in_stock`` null without stock data)."""
    from catalog_index.search import Hit, hit_to_json

    shaped: dict[str, object] = hit_to_json(Hit(product, 0.0))
    shaped.pop("score", None)
    if not product.get("stock"):
        shaped["in_stock"] = None
    return shaped


def register(sub: Subparsers) -> None:
    recommend = add_command(
        sub,
        "recommend",
        cmd_recommend,
        "recommend products for a customer",
        "shop-assistant recommend --customer C0001 --k 10 --json\n"
        "shop-assistant recommend --customers ids.txt --k 10 --json",
    )
    recommend.add_argument("--customer", help="a customer id")
    recommend.add_argument("--customers", help="file with one customer id per line (batch)")
    recommend.add_argument("--k", type=int, default=10, help="products per customer")
    recommend.add_argument("--max-price", type=float, default=None, help="budget: nothing above this price")
    recommend.add_argument("--json", action="store_true", help="JSON output (the only format)")
