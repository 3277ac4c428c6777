"""``GET /agent/dashboard`` (the page) and ``GET /agent/api/analytics`` (its JSON), for admins.

The figures are :func:`assistant.observe.report.build_report` over a period (7, 30 or 90
days) and a channel, computed on a worker thread from the customer store; unanswered
messages are grouped with the catalog index's encoder, which the action server holds (by exact
wording while it cannot answer). In the demo profile the page first reads the trackers noted since the
last pass, so it shows the conversation that just ended. Agents who are not admins get a 403: the figures cover every
conversation, not only theirs.
"""

from __future__ import annotations

import asyncio
import html
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path
from string import Template
from typing import Any

from aiohttp import web
from sqlalchemy.exc import SQLAlchemyError

from assistant.observe.charts import render
from assistant.observe.report import build_report
from assistant.observe.tracker_feed import ingest_trackers
from assistant.web.console.views import api_agent, live_session
from assistant.web.keys import SEARCH, SETTINGS, STORE
from assistant.web.middlewares import ApiError

log = logging.getLogger(__name__)
PAGE = Template((Path(__file__).parent / "templates" / "dashboard.html").read_text())
PERIODS = {"1d": "last 24 hours", "7d": "last 7 days", "30d": "last 30 days", "90d": "last 90 days"}
DEFAULT_PERIOD = "30d"
FORBIDDEN = "the dashboard is for admins"


def _filters(request: web.Request) -> tuple[str, str | None]:
    period = request.query.get("since", DEFAULT_PERIOD)
    if period not in PERIODS:
        raise ApiError(400, f"since must be one of {', '.join(PERIODS)}")
    channel = request.query.get("channel") or None
    if channel is not None and (len(channel) > 64 or not channel.isprintable()):
        raise ApiError(400, "channel must be a channel name")
    return period, channel


async def _fresh(request: web.Request) -> None:
    """Demo profile: read the conversations noted since the last pass first, so the page is current."""
    settings = request.app[SETTINGS]
    if settings.rabbitmq_url:
        return
    try:
        await asyncio.to_thread(ingest_trackers, settings, request.app[STORE])
    except SQLAlchemyError:
        log.warning("dashboard: the analytics pass failed; showing what is stored", exc_info=True)


async def _report(request: web.Request, period: str, channel: str | None) -> tuple[dict[str, Any], list[str]]:
    await _fresh(request)
    until = datetime.now(UTC)
    since = until - timedelta(days=int(period[:-1]))
    embed = request.app[SEARCH].encoder(asyncio.get_running_loop())

    def compute() -> tuple[dict[str, Any], list[str]]:
        with request.app[STORE].unit_of_work() as uow:
            return build_report(uow.reports, since, until, channel=channel, embed=embed), uow.analytics.channels()

    return await asyncio.to_thread(compute)


def _options(values: list[tuple[str, str]], chosen: str) -> str:
    return "".join(
        f'<option value="{html.escape(value)}"{" selected" if value == chosen else ""}>{html.escape(label)}</option>'
        for value, label in values
    )


async def get_dashboard(request: web.Request) -> web.StreamResponse:
    session = await live_session(request)
    if session is None:
        return web.Response(status=303, headers={"Location": "/agent/login", "Cache-Control": "no-store"})
    if session.agent.role != "admin":
        raise ApiError(403, FORBIDDEN)
    period, channel = _filters(request)
    report, channels = await _report(request, period, channel)
    page = PAGE.substitute(
        username=html.escape(session.agent.username), role=html.escape(session.agent.role),
        period_options=_options(list(PERIODS.items()), period),
        channel_options=_options([("", "all channels"), *((c, c) for c in channels)], channel or ""),
        period_text=html.escape(f"{PERIODS[period]}, {channel or 'all channels'}"),
        body=render(report),
    )
    return web.Response(text=page, content_type="text/html", headers={"Cache-Control": "no-store"})


async def get_analytics(request: web.Request) -> web.Response:
    agent = await api_agent(request)
    if agent.role != "admin":
        raise ApiError(403, FORBIDDEN)
    period, channel = _filters(request)
    report, _ = await _report(request, period, channel)
    return web.json_response(report)
