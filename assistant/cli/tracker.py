"""``shop-assistant tracker prune``: the tracker-store retention job (assistant/tracker_retention.py)."""

from __future__ import annotations

import argparse

from assistant.cli.common import Subparsers, add_command, add_group
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


def register(sub: Subparsers) -> None:
    tracker = add_group(sub, "tracker", "Rasa's conversation store")
    add_command(tracker, "prune", cmd_tracker_prune, "delete guest conversations idle for SHOP_GUEST_TRACKER_DAYS",
                "SHOP_PROFILE=production shop-assistant tracker prune")
