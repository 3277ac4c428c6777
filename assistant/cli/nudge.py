"""``shop-assistant nudge run``: abandoned-cart reminders and due product alerts, for cron."""

from __future__ import annotations

import argparse
import sys

from assistant.cli.common import Subparsers, add_command, add_group
from assistant.errors import UsageError
from assistant.settings import Settings


def cmd_run(settings: Settings, args: argparse.Namespace) -> int:
    from assistant.nudge import parse_quiet_hours, run_nudges
    from assistant.store.db import prepare_schema
    from assistant.tracker_retention import prune_guest_trackers

    try:
        parse_quiet_hours(settings.quiet_hours)
    except ValueError as error:
        raise UsageError(f"SHOP_QUIET_HOURS: {error}", "or set it empty for no quiet hours") from None
    prepare_schema(settings.database_url, settings.profile)
    report = run_nudges(settings, dry_run=args.dry_run)
    if not args.dry_run and (pruned := prune_guest_trackers(settings)):  # production: tracker retention
        print(f"deleted {pruned} idle guest conversation(s) from the tracker store")
    for label in report.planned:
        print(f"would remind {label}")
    for label in report.quiet:
        print(f"quiet hours, later: {label}")
    for label in report.failed:
        print(f"failed: {label}", file=sys.stderr)
    print(report.summary())
    return 1 if report.failed else 0


def register(sub: Subparsers) -> None:
    nudge = add_group(sub, "nudge", "abandoned-cart reminders and product alerts")
    run = add_command(
        nudge,
        "run",
        cmd_run,
        "remind customers of carts left alone and send due product alerts (cron-able)",
        "shop-assistant --data-dir /srv/shop nudge run --dry-run\n"
        "*/10 * * * *  shop-assistant --data-dir /srv/shop nudge run   # a crontab line",
    )
    run.add_argument("--dry-run", action="store_true", help="list who would be reminded; send nothing")
