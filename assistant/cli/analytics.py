"""``shop-assistant analytics``: the operator's report, and the two analytics feeds.

- ``analytics report --since 30d [--channel web] --json|--csv``: the figures of
  :mod:`assistant.observe.report` (CSV: one ``figure,key,value`` row per number);
- ``analytics ingest``: one pass of the demo profile's feed (read the noted trackers);
- ``analytics consume``: the production profile's feed, Rasa's event broker (runs until stopped).
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from assistant.cli.common import Subparsers, add_command, add_group
from assistant.settings import Settings

DURATION = re.compile(r"(\d+)([dhm])")
UNITS = {"d": "days", "h": "hours", "m": "minutes"}


def parse_since(raw: str, now: datetime) -> datetime:
    """``30d``, ``12h``, ``90m`` before ``now``, or an ISO 8601 date or date-time (UTC unless given)."""
    match = DURATION.fullmatch(raw.strip())
    if match:
        return now - timedelta(**{UNITS[match.group(2)]: int(match.group(1))})
    try:
        moment = datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"--since wants 30d, 12h, 90m or an ISO date, not {raw!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def csv_rows(report: dict[str, Any]) -> Iterator[tuple[str, str, Any]]:
    """``(figure, key, value)``: scalars with an empty key, tallies by their key, lists by rank."""
    for figure, value in report.items():
        if figure == "definitions":
            continue
        if isinstance(value, dict):
            for key, inner in value.items():
                if isinstance(inner, dict):
                    yield from ((figure, f"{key}.{k}", v) for k, v in inner.items())
                else:
                    yield figure, str(key), inner
        elif isinstance(value, list):
            for item in value:
                label = item.get("query") or item.get("example") or ""
                yield figure, str(label), item.get("count")
        else:
            yield figure, "", value


def cmd_report(settings: Settings, args: argparse.Namespace) -> int:
    from assistant.observe.report import build_report
    from assistant.observe.unanswered import catalog_encoder
    from assistant.store.db import open_store

    now = datetime.now(UTC)
    since = parse_since(args.since, now)
    with open_store(settings.database_url, migrate_first=True) as store, store.unit_of_work() as uow:
        embed = None if args.exact_wording else catalog_encoder(settings.embedding)
        report = build_report(uow.reports, since, now, channel=args.channel, embed=embed, top=args.top)
    if args.csv:
        writer = csv.writer(sys.stdout)
        writer.writerow(("figure", "key", "value"))
        writer.writerows(csv_rows(report))
    else:
        print(json.dumps(report, ensure_ascii=False, indent=None if args.json else 2))
    return 0


def cmd_ingest(settings: Settings, args: argparse.Namespace) -> int:
    from assistant.observe.tracker_feed import ingest_trackers
    from assistant.store.db import open_store, prepare_schema

    prepare_schema(settings.database_url, settings.profile)
    with open_store(settings.database_url) as store:
        report = ingest_trackers(settings, store, limit=args.limit)
    print(report.summary())
    return 1 if report.failed else 0


def cmd_consume(settings: Settings, args: argparse.Namespace) -> int:
    import asyncio

    from assistant.observe.broker_feed import consume_forever

    if not settings.rabbitmq_url:
        print("error: set SHOP_RABBITMQ_URL (the broker Rasa publishes its events to)", file=sys.stderr)
        return 2
    asyncio.run(consume_forever(settings))
    return 0


def register(sub: Subparsers) -> None:
    """Add ``analytics report|ingest|consume`` to the ``shop-assistant`` parser."""
    analytics = add_group(sub, "analytics", "operator analytics: report, and the feeds from Rasa's events")

    report = add_command(analytics, "report", cmd_report,
                         "the assistant's figures over a period (conversations, containment, CSAT, sales)",
                         "shop-assistant analytics report --since 30d --json\nshop-assistant analytics report --since 7d --csv")
    report.add_argument("--since", default="30d", help="30d, 12h, 90m or an ISO date (default 30d)")
    report.add_argument("--channel", help="only this channel (web, telegram, whatsapp...)")
    report.add_argument("--top", type=int, default=10, help="how many top queries and unanswered groups")
    report.add_argument("--exact-wording", action="store_true",
                        help="group unanswered messages by exact wording (skip loading the encoder)")
    output = report.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="one JSON object (the default, indented)")
    output.add_argument("--csv", action="store_true", help="figure,key,value rows")
    ingest = add_command(analytics, "ingest", cmd_ingest,
                         "read the trackers of conversations the web app relayed (demo profile feed)",
                         "shop-assistant analytics ingest --limit 500")
    ingest.add_argument("--limit", type=int, default=500, help="conversations per pass")
    add_command(analytics, "consume", cmd_consume,
                "store Rasa's events from the RabbitMQ queue until stopped (production feed)",
                "SHOP_RABBITMQ_URL=amqp://guest:guest@127.0.0.1:5672/ shop-assistant analytics consume")
