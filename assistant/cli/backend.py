"""``shop-assistant backend deliver [--once]`` and ``shop-assistant backend pending [--json]``."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import TYPE_CHECKING

from assistant.cli.common import Subparsers, add_command, add_group
from assistant.settings import Settings

if TYPE_CHECKING:
    from assistant.store.db import Store


def _store(settings: Settings) -> Store:
    """The customer store, its schema checked (production) or migrated (demo) first."""
    from assistant.store.db import open_store, prepare_schema

    prepare_schema(settings.database_url, settings.profile)
    return open_store(settings.database_url)


def cmd_backend_deliver(settings: Settings, args: argparse.Namespace) -> int:
    """Deliver the outbox (once, or every SHOP_BACKEND_INTERVAL_SECONDS until interrupted)."""
    import aiohttp

    from assistant.backend.runner import backend_pass, configured, make_deliverer, run_backend_loop

    if not configured(settings):
        print("error: set SHOP_BACKEND_WEBHOOK_URL (and SHOP_WEBHOOK_SECRET), or SHOP_BACKEND to a platform",
              file=sys.stderr)
        return 2
    with _store(settings) as store:

        async def once() -> int:
            async with aiohttp.ClientSession() as http:
                report = await backend_pass(settings, store, make_deliverer(settings, store, http))
            print(report.summary())
            return 1 if report.failed else 0

        if args.once:
            return asyncio.run(once())
        try:
            asyncio.run(run_backend_loop(settings, store, max(1.0, settings.backend_interval_seconds)))
        except KeyboardInterrupt:
            return 0
        return 0


def cmd_backend_pending(settings: Settings, args: argparse.Namespace) -> int:
    """List the requests the store has not taken yet (waiting, or refused for good)."""
    with _store(settings) as store, store.unit_of_work() as uow:
        rows = [{"id": row.idempotency_key, "kind": row.kind, "order_id": row.order_id,
                 "created_at": row.created_at.isoformat(), "attempts": row.attempts,
                 "next_attempt_at": row.next_attempt_at.isoformat(),
                 "state": "refused" if row.failed_at else "waiting", "last_error": row.last_error}
                for row in uow.outbox.not_taken()]
    if args.json:
        for row in rows:
            print(json.dumps(row))
    else:
        for row in rows:
            print(f"{row['state']:8} {row['kind']:24} {row['order_id'] or '-':12} attempts={row['attempts']} "
                  f"{row['last_error'] or ''}")
        print(f"{len(rows)} pending")
    return 0


def register(sub: Subparsers) -> None:
    """Add ``backend deliver`` and ``backend pending`` to the CLI."""
    backend = add_group(sub, "backend", "requests to the store's own systems (the outbox)")
    deliver = add_command(backend, "deliver", cmd_backend_deliver, "deliver pending requests to the store (cron-able with --once)",
                          "shop-assistant backend deliver --once")
    deliver.add_argument("--once", action="store_true", help="one pass, then exit")
    pending = add_command(backend, "pending", cmd_backend_pending, "list requests the store has not taken yet",
                          "shop-assistant backend pending --json")
    pending.add_argument("--json", action="store_true", help="one JSON object per line")
