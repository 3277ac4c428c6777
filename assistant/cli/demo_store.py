"""``shop-assistant demo-store setup``: the generated demo store, brought to a ready state (what ``make demo`` runs)."""

from __future__ import annotations

import argparse

from assistant.cli.common import Subparsers, add_command, add_group
from assistant.settings import Settings


def cmd_setup(settings: Settings, args: argparse.Namespace) -> int:
    from assistant.demo_setup import set_up_demo_store

    set_up_demo_store(settings, seed=args.seed, progress=not args.quiet)
    return 0


def register(sub: Subparsers) -> None:
    demo = add_group(sub, "demo-store", "the generated demo store")
    setup = add_command(
        demo,
        "setup",
        cmd_setup,
        "generate (if absent), import history, build the index (if stale)",
        "shop-assistant --data-dir var/demo demo-store setup",
    )
    setup.add_argument("--seed", type=int, default=42, help="the generator's random seed (a new store only)")
    setup.add_argument("--quiet", action="store_true", help="no progress bars")
