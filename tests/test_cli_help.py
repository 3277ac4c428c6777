"""Every command explains itself: help for each option (with its default), an example, ``--version``, ``help CMD``."""

from __future__ import annotations

import argparse
import subprocess
import sys

from assistant.cli import build_parser
from assistant.settings import PROJECT_ROOT


def commands(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> dict[tuple[str, ...], argparse.ArgumentParser]:
    """Each runnable command's parser by its words (``("catalog", "search")``)."""
    groups = [action for action in parser._actions if isinstance(action, argparse._SubParsersAction)]
    if not groups:
        return {path: parser}
    found: dict[tuple[str, ...], argparse.ArgumentParser] = {}
    for name, child in groups[0].choices.items():
        found.update(commands(child, (*path, name)))
    return found


def test_every_option_has_help_and_every_command_an_example() -> None:
    everything = commands(build_parser())
    assert ("catalog", "search") in everything and ("history", "import") in everything and len(everything) > 20
    for path, parser in everything.items():
        if path == ("help",):
            continue
        assert parser.epilog and parser.epilog.startswith("example:\n") and "shop-assistant " in parser.epilog, path
        assert all(action.help for action in parser._actions), (path, [a.dest for a in parser._actions if not a.help])


def test_help_shows_defaults_but_not_for_flags() -> None:
    text = commands(build_parser())[("catalog", "search")].format_help()
    assert "results per query (default: 10)" in text
    assert "--json               one JSON line per query (query, hits)\n" in text  # a flag: no "(default: False)"


def _help(*words: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "assistant.cli", "help", *words],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(PROJECT_ROOT), "PATH": "/usr/bin:/bin"},
        timeout=300,
    )
    assert done.returncode == 0 and not done.stderr, done.stderr
    return done.stdout


def test_help_command_and_version() -> None:
    assert "usage: shop-assistant catalog search" in _help("catalog", "search")
    assert "exit codes: 0 done, 1 the command could not be done" in _help()
    done = subprocess.run(
        [sys.executable, "-m", "assistant.cli", "--version"],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(PROJECT_ROOT), "PATH": "/usr/bin:/bin"},
        timeout=300,
    )
    assert done.returncode == 0 and done.stdout.startswith("shop-assistant ")
