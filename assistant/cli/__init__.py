"""The ``shop-assistant`` command line.

One module per command group, each with a ``register(sub)`` that adds its subcommands;
each subcommand is a thin shell over a package function, imported lazily so that
``shop-assistant token`` does not pay for loading PyTorch.  The steps the commands share
with ``demo_setup`` live in :mod:`assistant.store_steps`.  Every command takes
``--data-dir`` so several stores can live side by side.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from assistant.cli import (
    agents,
    analytics,
    backend,
    catalog,
    db,
    demo_store,
    history,
    nudge,
    promotions,
    recommend,
    stack,
    sync,
    tracker,
)
from assistant.settings import ConfigurationError, load_settings
from assistant.store_steps import STORE_NOT_SYNCED

__all__ = ["STORE_NOT_SYNCED", "build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="shop-assistant", description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", help="store directory (catalog, index, customer database)")
    sub = parser.add_subparsers(dest="command", required=True)
    for group in (catalog, history, recommend, agents, analytics, backend, nudge, promotions, sync, tracker, db, demo_store, stack):
        group.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings(args.data_dir, profile=getattr(args, "profile", None))
    except ConfigurationError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    from assistant.store.db import SchemaBehind

    try:
        return int(args.handler(settings, args))
    except SchemaBehind as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
