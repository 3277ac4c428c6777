"""What every command module shares: the handler signature, the subcommand helper, JSON output."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from typing import TypeAlias

from assistant.settings import Settings

Handler: TypeAlias = Callable[[Settings, argparse.Namespace], int]
Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


def add_command(parent: Subparsers, name: str, handler: Handler, help_text: str) -> argparse.ArgumentParser:
    """A subcommand that runs ``handler`` and accepts ``--data-dir`` after its name as well as before."""
    command = parent.add_parser(name, help=help_text)
    command.add_argument("--data-dir", default=argparse.SUPPRESS, help="store directory")
    command.set_defaults(handler=handler)
    return command


def add_group(sub: Subparsers, name: str, help_text: str) -> Subparsers:
    """A command group (``catalog``, ``agents``...) whose subcommands are added with :func:`add_command`."""
    return sub.add_parser(name, help=help_text).add_subparsers(dest=f"{name.replace('-', '_')}_command", required=True)


def print_json(payload: object) -> None:
    print(json.dumps(payload, ensure_ascii=False))
