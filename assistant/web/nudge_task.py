"""The abandoned-cart reminder on a timer inside the web app (``SHOP_NUDGE_INTERVAL_SECONDS``).

Off by default: ``shop-assistant nudge run`` from cron does the same. Both may run at once;
the reminder log's unique key keeps every cart version to one message.

With several web replicas (``SHOP_REDIS_URL`` set) each pass runs once across them: time is
cut into slots of the interval, every replica wakes at the start of a slot, and only the one
whose ``SET NX PX`` of the slot's key succeeds runs the pass. The key is left to expire, so a
replica that wakes late in the same slot does not run it again.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Coroutine
from typing import Any

from aiohttp import web
from redis.exceptions import RedisError

from assistant.nudge import NudgeReport, run_nudges
from assistant.settings import Settings
from assistant.tracker_retention import prune_guest_trackers
from assistant.web.background import run_in_background
from assistant.web.keys import SETTINGS
from assistant.web.live.shared import connect, namespace, take_pass

log = logging.getLogger(__name__)


class SlotLock:
    """Who runs the pass of a time slot, across web replicas sharing one Redis."""

    def __init__(self, settings: Settings, seconds: int) -> None:
        self._redis = connect(settings.redis_url)
        self._prefix = namespace(settings.redis_url, settings.database_url) + "nudge:"
        self._ttl_ms = seconds * 2000  # past the slot's end, so a late replica finds it taken

    async def mine(self, slot: int) -> bool:
        return await take_pass(self._redis, f"{self._prefix}{slot}", self._ttl_ms)

    async def close(self) -> None:
        await self._redis.aclose()


async def run_pass(settings: Settings, slot: int, lock: SlotLock | None) -> NudgeReport | None:
    """Run the reminder pass of ``slot`` unless another replica has it (``None`` then)."""
    try:
        if lock is not None and not await lock.mine(slot):
            return None
    except RedisError as error:
        log.warning("cart reminders skipped in this slot: Redis unreachable (%s)", error)
        return None
    return await asyncio.to_thread(run_nudges, settings)


async def _every(app: web.Application, seconds: int) -> None:
    settings = app[SETTINGS]
    lock = SlotLock(settings, seconds) if settings.redis_url else None
    try:
        while True:
            await asyncio.sleep(seconds - time.time() % seconds)  # the start of the next slot
            try:
                report = await run_pass(settings, int(time.time() // seconds), lock)
                if report is not None and (report.sent or report.failed):
                    log.info("cart reminders: %s", report.summary())
                if report is not None:
                    deleted = await asyncio.to_thread(prune_guest_trackers, settings)  # tracker retention
                    if deleted:
                        log.info("idle guest conversations deleted from the tracker store")
            except Exception:
                log.exception("the cart reminder run failed; trying again in %s s", seconds)
    finally:
        if lock is not None:
            await lock.close()


def setup_nudge_timer(app: web.Application) -> None:
    def job(app: web.Application) -> Coroutine[Any, Any, None] | None:
        seconds = app[SETTINGS].nudge_interval_seconds
        return _every(app, seconds) if seconds > 0 else None

    run_in_background(app, job)
