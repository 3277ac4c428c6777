"""``shop-assistant tracker prune``: the tracker-store retention job (assistant/tracker_retention.py)."""

from __future__ import annotations

import argparse

from assistant.settings import Settings


def cmd_tracker_prune(settings: Settings, args: argparse.Namespace) -> int:
    """Delete idle guests' conversations from Rasa's SQL tracker store (cron-able)."""
    from assistant.tracker_retention import prune_guest_trackers

    pruned = prune_guest_trackers(settings)
    if pruned is None:
        print("nothing to prune: the demo profile keeps conversations in Rasa's memory (SHOP_PROFILE=production has a tracker store)")
    else:
        print(f"deleted {pruned} guest conversation(s) idle for more than {settings.guest_tracker_days} days")
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``tracker prune`` to the CLI."""
    tracker = subparsers.add_parser("tracker", help="Rasa's conversation store").add_subparsers(
        dest="tracker_command", required=True)
    prune = tracker.add_parser("prune", help="delete guest conversations idle for SHOP_GUEST_TRACKER_DAYS")
    prune.add_argument("--data-dir", default=argparse.SUPPRESS, help="store directory")
    prune.set_defaults(handler=cmd_tracker_prune)
