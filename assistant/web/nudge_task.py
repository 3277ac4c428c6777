"""The abandoned-cart reminder on a timer inside the web app (``SHOP_NUDGE_INTERVAL_SECONDS``).

Off by default: ``shop-assistant nudge run`` from cron does the same. Both may run at once;
the reminder log's unique key keeps every cart version to one message.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from aiohttp import web

from assistant.nudge import run_nudges
from assistant.tracker_retention import prune_guest_trackers
from assistant.web.keys import SETTINGS

log = logging.getLogger(__name__)


async def _every(app: web.Application, seconds: int) -> None:
    while True:
        await asyncio.sleep(seconds)
        try:
            report = await asyncio.to_thread(run_nudges, app[SETTINGS])
            if report.sent or report.failed:
                log.info("cart reminders: %s", report.summary())
            if await asyncio.to_thread(prune_guest_trackers, app[SETTINGS]):  # production: tracker retention
                log.info("idle guest conversations deleted from the tracker store")
        except Exception:
            log.exception("the cart reminder run failed; trying again in %s s", seconds)


async def nudge_timer_ctx(app: web.Application) -> AsyncIterator[None]:
    seconds = app[SETTINGS].nudge_interval_seconds
    task = asyncio.create_task(_every(app, seconds)) if seconds > 0 else None
    yield
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def setup_nudge_timer(app: web.Application) -> None:
    app.cleanup_ctx.append(nudge_timer_ctx)
