"""What every command module shares: the handler signature, the subcommand helpers, input files, JSON output."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path
from typing import TypeAlias

from assistant.errors import UserError
from assistant.settings import Settings

Handler: TypeAlias = Callable[[Settings, argparse.Namespace], int]
Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Keeps the examples' line breaks and shows each option's default (not for flags or options unset by default)."""

    def _get_help_string(self, action: argparse.Action) -> str:
        help_text = action.help or ""
        if action.default not in (None, False, argparse.SUPPRESS) and "%(default)" not in help_text:
            help_text += " (default: %(default)s)"
        return help_text


def add_command(
    parent: Subparsers, name: str, handler: Handler, help_text: str, example: str = ""
) -> argparse.ArgumentParser:
    """A subcommand that runs ``handler`` and accepts ``--data-dir`` after its name as well as before.

    ``example``: a command line or two shown at the end of its ``--help``.
    """
    epilog = "example:\n" + "\n".join(f"  {line}" for line in example.splitlines()) if example else None
    command = parent.add_parser(
        name, help=help_text, description=help_text, epilog=epilog, formatter_class=HelpFormatter
    )
    command.add_argument("--data-dir", default=argparse.SUPPRESS, help="store directory")
    command.add_argument(
        "--debug", action="store_true", default=argparse.SUPPRESS, help="show the traceback of an error"
    )
    command.set_defaults(handler=handler)
    return command


def add_group(sub: Subparsers, name: str, help_text: str) -> Subparsers:
    """A command group (``catalog``, ``agents``...) whose subcommands are added with :func:`add_command`."""
    group = sub.add_parser(name, help=help_text, description=help_text, formatter_class=HelpFormatter)
    return group.add_subparsers(dest=f"{name.replace('-', '_')}_command", required=True)


def print_json(payload: object) -> None:
    print(json.dumps(payload, ensure_ascii=False))


def input_file(name: str, what: str, *, directory_ok: bool = False) -> Path:
    """The path of a file the user named, checked before any work starts so a typo costs one clear line."""
    path = Path(name)
    if not path.exists():
        raise UserError(f"{what} {name} does not exist", "check the path")
    if path.is_dir() and not directory_ok:
        raise UserError(f"{what} {name} is a directory", "name a file")
    if not path.is_dir():
        try:
            path.open("rb").close()
        except OSError as error:
            raise UserError(f"{what} {name} cannot be read: {error.strerror}", "check its permissions") from None
    return path
