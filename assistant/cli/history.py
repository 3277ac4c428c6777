"""``shop-assistant history import``: customers with consent, orders, order lines and events."""

from __future__ import annotations

import argparse
import sys

from assistant.cli.common import Subparsers, add_command, add_group, input_file
from assistant.errors import UserError
from assistant.settings import Settings
from assistant.store_steps import import_history_file


def cmd_import(settings: Settings, args: argparse.Namespace) -> int:
    """Import a file or history directory; one that yields nothing valid fails, its first bad lines shown."""
    report = import_history_file(
        settings, input_file(args.file, "history file", directory_ok=True), progress=not args.quiet
    )
    if report.accepted:
        print(report.summary())
        return 0
    print(report.summary(), file=sys.stderr)
    if not any(report.read.values()):
        raise UserError(f"no records in {args.file}", "give a file with one customer, order line or event per line")
    why, fixes = [], []
    if report.skipped_invalid:
        why.append(f"{report.skipped_invalid} invalid lines")
        fixes.append("fix the lines listed above")
    if report.skipped_unknown_product:
        why.append(f"{report.skipped_unknown_product} lines naming products not in the catalog")
        fixes.append("import the catalog first (`shop-assistant catalog import FILE`)")
    raise UserError(
        f"nothing was imported from {args.file}: {' and '.join(why)}", ", and ".join(fixes) + ", then import it again"
    )


def register(sub: Subparsers) -> None:
    history = add_group(sub, "history", "customer history")
    command = add_command(
        history,
        "import",
        cmd_import,
        "import customers, orders and events (CSV/JSON Lines or a history dir)",
        "shop-assistant --data-dir var/mystore history import customers.csv\n"
        "shop-assistant --data-dir var/mystore history import order_lines.csv",
    )
    command.add_argument("file", help="a file (its kind is recognised from its fields) or a directory of history files")
    command.add_argument("--quiet", action="store_true", help="no progress bar")
