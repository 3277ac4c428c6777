"""``shop-assistant history import``: customers with consent, orders, order lines and events."""

from __future__ import annotations

import argparse
from pathlib import Path

from assistant.cli.common import Subparsers, add_command, add_group
from assistant.settings import Settings
from assistant.store_steps import import_history_file


def cmd_import(settings: Settings, args: argparse.Namespace) -> int:
    print(import_history_file(settings, Path(args.file)).summary())
    return 0


def register(sub: Subparsers) -> None:
    history = add_group(sub, "history", "customer history")
    add_command(history, "import", cmd_import, "import orders and events (CSV/JSON Lines or a history dir)").add_argument("file")
