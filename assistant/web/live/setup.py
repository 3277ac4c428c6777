"""Wiring of the live layer into the web app: store schema, hub, handoff service, watcher."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from aiohttp import web
from sqlalchemy.exc import SQLAlchemyError

from assistant.store.db import migrate
from assistant.store_policy import load_store_policy
from assistant.web.keys import RASA, SETTINGS, STORE
from assistant.web.live.handoffs import HandoffService
from assistant.web.live.hub import Hub
from assistant.web.live.keys import HANDOFFS, HUB
from assistant.web.live.watcher import watch

log = logging.getLogger(__name__)


async def live_ctx(app: web.Application) -> AsyncIterator[None]:
    """The store (migrated to head), the hub, the handoff service and its watcher, for the app's lifetime.

    Must run after the Rasa client and store contexts (it uses ``app[RASA]`` and
    ``app[STORE]``). An unreachable store must not keep the shop's chat down: the app
    starts anyway, and the console and the hold check answer honestly until it is back.
    """
    settings = app[SETTINGS]
    try:
        await asyncio.to_thread(migrate, settings.database_url)
    except SQLAlchemyError as error:
        log.error("customer store unreachable at start-up, console unavailable until it is back: %s", error)
    app[HUB] = Hub()
    app[HANDOFFS] = HandoffService(app[STORE], app[RASA], app[HUB], load_store_policy(settings.policy_file))
    watcher = asyncio.create_task(watch(app[HANDOFFS], app[HUB]))
    yield
    watcher.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await watcher


async def close_sockets(app: web.Application) -> None:
    await app[HUB].close_all()


def setup_live(app: web.Application) -> None:
    """Add the live context and the shutdown hook that closes every WebSocket."""
    app.cleanup_ctx.append(live_ctx)
    app.on_shutdown.append(close_sockets)
