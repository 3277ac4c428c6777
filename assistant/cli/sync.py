"""``shop-assistant sync shopify|woocommerce|medusa [--since ISO] [--full] [--quiet]``."""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import datetime

from assistant.cli.common import Subparsers, add_command
from assistant.integrations import PLATFORMS
from assistant.settings import Settings


def _iso(text: str) -> str:
    """``--since``: an ISO 8601 date or date-time (UTC unless it says otherwise)."""
    try:
        datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 date-time: {text!r} (e.g. 2026-11-01T00:00:00Z)") from None
    return text if "T" in text else f"{text}T00:00:00Z"


def cmd_sync(settings: Settings, args: argparse.Namespace) -> int:
    """Import the platform's products and orders; a platform or store failure is one line on stderr."""
    from sqlalchemy.exc import SQLAlchemyError

    from assistant.integrations.base import PlatformError
    from assistant.integrations.sync import run_sync

    try:
        report = asyncio.run(run_sync(settings, args.platform, since=args.since, full=args.full,
                                      progress=not args.quiet))
    except PlatformError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except SQLAlchemyError as error:
        reason = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
        print(f"error: the customer store ({settings.database_url.split('@')[-1]}) failed: {reason}; "
              "its sync cursors did not move, so the next sync fetches the same changes again", file=sys.stderr)
        return 1
    print(report.summary())
    return 0


def register(sub: Subparsers) -> None:
    """Add ``sync`` to the ``shop-assistant`` parser."""
    sync = add_command(sub, "sync", cmd_sync, "import products and orders from Shopify, WooCommerce or Medusa",
                       "shop-assistant --data-dir var/mystore sync shopify\n"
                       "shop-assistant --data-dir var/mystore sync woocommerce --since 2026-11-01T00:00:00Z")
    sync.add_argument("platform", choices=PLATFORMS, help="the platform to import from")
    when = sync.add_mutually_exclusive_group()
    when.add_argument("--since", type=_iso, help="only what changed after this ISO 8601 time (instead of the cursor)")
    when.add_argument("--full", action="store_true", help="everything again, ignoring the stored cursor")
    sync.add_argument("--quiet", action="store_true", help="no progress bars")
