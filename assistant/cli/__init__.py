"""The ``shop-assistant`` command line.

One module per command group, each with a ``register(sub)`` that adds its subcommands;
each subcommand is a thin shell over a package function, imported lazily so that
``shop-assistant token`` does not pay for loading PyTorch.  The steps the commands share
with ``demo_setup`` live in :mod:`assistant.store_steps`.  Every command takes
``--data-dir`` so several stores can live side by side.

An ordinary mistake (a missing file, no index yet, a bad environment value) ends in one
line on stderr saying what is wrong and what to do, with exit code 1 (the command could not
be done) or 2 (the command line or environment is malformed); see :mod:`assistant.errors`.
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
from assistant.cli.common import HelpFormatter
from assistant.cli.failures import user_error_for
from assistant.errors import EXIT_FAILURE, EXIT_INTERRUPTED, UsageError
from assistant.errors import EXIT_STORE_NOT_SYNCED as STORE_NOT_SYNCED
from assistant.settings import Settings, debug_requested, load_settings

__all__ = ["STORE_NOT_SYNCED", "build_parser", "main"]


EPILOG = """\
examples:
  shop-assistant --data-dir var/mystore catalog import products.csv
  shop-assistant --data-dir var/mystore catalog build-index
  shop-assistant --data-dir var/mystore catalog search "usb c charger 65w" --k 10
  shop-assistant help catalog search

exit codes: 0 done, 1 the command could not be done, 2 a malformed command line or environment
value, 3 catalog changed but the customer store's product mirror not, 130 interrupted.
"""


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("shop-assistant")
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown (not installed)"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="shop-assistant", description=__doc__.splitlines()[0], epilog=EPILOG, formatter_class=HelpFormatter
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    parser.add_argument(
        "--data-dir", help="store directory: catalog, index, customer database (default: SHOP_DATA_DIR, else var/demo)"
    )
    parser.add_argument("--debug", action="store_true", help="show the traceback of an error (also SHOP_DEBUG=1)")
    sub = parser.add_subparsers(dest="command", required=True)
    for group in (catalog, history, recommend, agents, analytics, backend, nudge, promotions, sync, tracker, db, demo_store, stack):
        group.register(sub)
    help_command = sub.add_parser("help", help="show the help of a command, e.g. `help catalog search`")
    help_command.add_argument("topic", nargs="*", help="a command and its subcommand")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; argparse reports a malformed command line itself (exit code 2)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "help":  # `help catalog search` is `catalog search --help`
        parser.parse_args([*args.topic, "--help"])
    settings: Settings | None = None
    try:
        settings = load_settings(args.data_dir, profile=getattr(args, "profile", None))
        if settings.data_dir.exists() and not settings.data_dir.is_dir():
            raise UsageError(f"the store directory {settings.data_dir} is a file", "give --data-dir a directory")
        return int(args.handler(settings, args))
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as error:
        if args.debug or debug_requested():
            raise
        known = user_error_for(error, settings)
        if known is None:
            print(
                f"error: unexpected {type(error).__name__}: {error} "
                "(run it again with --debug or SHOP_DEBUG=1 for the traceback, and report it if it is a bug)",
                file=sys.stderr,
            )
            return EXIT_FAILURE
        print(f"error: {known}", file=sys.stderr)
        return known.exit_code
