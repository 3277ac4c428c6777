"""The web app's part in the demo profile's analytics feed (:mod:`assistant.observe.tracker_feed`).

:func:`note_conversation` records that a conversation spoke (one upsert per message);
with ``SHOP_ANALYTICS_INTERVAL_SECONDS`` > 0 a timer reads the noted trackers. In the
production profile (``SHOP_RABBITMQ_URL`` set) Rasa's event broker feeds the tables and
the web app does neither.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

from aiohttp import web
from sqlalchemy.exc import SQLAlchemyError

from assistant.observe.tracker_feed import ingest_trackers
from assistant.web.background import run_in_background
from assistant.web.keys import SETTINGS, STORE

log = logging.getLogger(__name__)


def _note(app: web.Application, sender: str) -> None:
    with app[STORE].unit_of_work() as uow:
        uow.analytics.note_sender(sender)
        uow.commit()


async def note_conversation(app: web.Application, sender: str) -> None:
    """Note the conversation for the next tracker reading; a store hiccup costs the chat nothing."""
    if app[SETTINGS].rabbitmq_url:
        return
    try:
        await asyncio.to_thread(_note, app, sender)
    except SQLAlchemyError:
        log.warning("analytics: could not note a conversation for reading", exc_info=True)


async def _every(app: web.Application, seconds: int) -> None:
    while True:
        await asyncio.sleep(seconds)
        try:
            report = await asyncio.to_thread(ingest_trackers, app[SETTINGS], app[STORE])
            if report.conversations or report.failed:
                log.info("analytics: %s", report.summary())
        except Exception:
            log.exception("the analytics pass failed; trying again in %s s", seconds)


def setup_analytics_timer(app: web.Application) -> None:
    def job(app: web.Application) -> Coroutine[Any, Any, None] | None:
        seconds = app[SETTINGS].analytics_interval_seconds
        return _every(app, seconds) if seconds > 0 and not app[SETTINGS].rabbitmq_url else None

    run_in_background(app, job)
