"""``shop-assistant db``: the customer store's schema."""

from __future__ import annotations

import argparse

from assistant.cli.common import Subparsers, add_command, add_group
from assistant.settings import Settings
from assistant.store_steps import store_location


def cmd_migrate(settings: Settings, args: argparse.Namespace) -> int:
    from assistant.store.db import migrate

    migrate(settings.database_url)  # the schema's one owner in the production profile
    print(f"customer store at head: {store_location(settings)}")
    return 0


def register(sub: Subparsers) -> None:
    db = add_group(sub, "db", "customer store")
    add_command(
        db,
        "migrate",
        cmd_migrate,
        "run schema migrations to head",
        "SHOP_DATABASE_URL=postgresql+psycopg://shop@db/shop shop-assistant db migrate",
    )
