"""``shop-assistant promotions``: the store's offers (percent or amount off, by scope and segment)."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime

from assistant.cli.common import Subparsers, add_command, add_group, print_json
from assistant.settings import Settings


def _date_time(text: str) -> datetime:
    """An ISO 8601 date-time option (argparse turns the error into a usage message)."""
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an ISO date-time such as 2026-12-01 or 2026-12-01T09:00"
        ) from None


def cmd_add(settings: Settings, args: argparse.Namespace) -> int:
    from sqlalchemy.exc import IntegrityError

    from assistant.store.db import open_store

    scope = "category" if args.category else "product" if args.product else "store"
    try:
        with open_store(settings.database_url, migrate_first=True) as store, store.unit_of_work() as uow:
            promotion = uow.promotions.add(
                args.code,
                args.title,
                "percent" if args.percent else "amount",
                args.percent or args.amount,
                scope=scope,
                scope_value=args.category or args.product,
                min_basket=args.min_basket,
                segment=args.segment,
                segment_value=args.tier,
                starts_at=args.starts,
                ends_at=args.ends,
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


def cmd_list(settings: Settings, args: argparse.Namespace) -> int:
    from assistant.store.db import open_store

    with open_store(settings.database_url, migrate_first=True) as store, store.unit_of_work() as uow:
        promotions = uow.promotions.active() if args.active else uow.promotions.all()
    columns = (
        "code",
        "title",
        "kind",
        "value",
        "scope",
        "scope_value",
        "min_basket",
        "segment",
        "segment_value",
        "starts_at",
        "ends_at",
    )
    for promotion in promotions:
        row = {name: getattr(promotion, name) for name in columns}
        row["starts_at"], row["ends_at"] = (
            v.isoformat() if v else None for v in (promotion.starts_at, promotion.ends_at)
        )
        if args.json:
            print_json(row)
        else:
            print("  ".join(f"{name}={value}" for name, value in row.items() if value is not None))
    return 0


def register(sub: Subparsers) -> None:
    promotions = add_group(sub, "promotions", "store offers")
    promo_add = add_command(
        promotions,
        "add",
        cmd_add,
        "add an offer",
        'shop-assistant promotions add SHOES20 --title "Running week" --percent 20 --category Shoes --ends 2026-12-31',
    )
    promo_add.add_argument("code", help="unique short name, e.g. SHOES20")
    promo_add.add_argument("--title", required=True, help='what shoppers see, e.g. "Running week"')
    size = promo_add.add_mutually_exclusive_group(required=True)
    size.add_argument("--percent", type=float, help="percent off")
    size.add_argument("--amount", type=float, help="currency amount off")
    target = promo_add.add_mutually_exclusive_group()
    target.add_argument("--category", help="only this category or subcategory (default: whole store)")
    target.add_argument("--product", help="only this product id")
    promo_add.add_argument("--min-basket", type=float, help="minimum basket total")
    promo_add.add_argument(
        "--segment", default="everyone", choices=("everyone", "new_customers", "loyalty_tier"), help="who may use it"
    )
    promo_add.add_argument("--tier", help="the loyalty tier, with --segment loyalty_tier")
    promo_add.add_argument("--starts", type=_date_time, help="ISO date-time (UTC unless given); default: now")
    promo_add.add_argument("--ends", type=_date_time, help="ISO date-time (UTC unless given); default: open-ended")
    promo_list = add_command(
        promotions, "list", cmd_list, "list offers", "shop-assistant promotions list --active --json"
    )
    promo_list.add_argument("--active", action="store_true", help="only offers valid now")
    promo_list.add_argument("--json", action="store_true", help="one JSON line per offer")
