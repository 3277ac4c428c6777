"""Wiring of the agent console into the web app: routes, store, hub, watcher."""


from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from aiohttp import web
from sqlalchemy.exc import SQLAlchemyError

from assistant.store.db import migrate
from assistant.store_policy import load_store_policy
from assistant.web.console import views, websockets
from assistant.web.console.auth import AgentSessions
from assistant.web.console.hub import Hub
from assistant.web.console.keys import AGENT_SESSIONS, HANDOFFS, HUB, LOGIN_THROTTLE
from assistant.web.console.service import HandoffService
from assistant.web.console.throttle import LoginThrottle
from assistant.web.console.views import account_current
from assistant.web.console.watcher import watch
from assistant.web.keys import RASA, SETTINGS, STORE

log = logging.getLogger(__name__)
# How soon a console WebSocket closes after its session expired, idled out or was revoked.
SWEEP_SECONDS = 30.0


async def console_ctx(app: web.Application) -> AsyncIterator[None]:
    """The store (migrated to head), the handoff service and its watcher, for the app's lifetime.

    Must run after the Rasa client context (it uses ``app[RASA]``). An unreachable store
    must not keep the shop's chat down: the app starts anyway, and the console and the
    hold check answer honestly until the store is back.
    """
    settings = app[SETTINGS]
    try:
        await asyncio.to_thread(migrate, settings.database_url)
    except SQLAlchemyError as error:
        log.error("customer store unreachable at start-up, console unavailable until it is back: %s", error)
    app[HUB] = Hub()
    app[AGENT_SESSIONS] = AgentSessions()
    app[LOGIN_THROTTLE] = LoginThrottle()
    app[HANDOFFS] = HandoffService(
        app[STORE], app[RASA], app[HUB], load_store_policy(settings.policy_file), settings
    )
    watcher = asyncio.create_task(watch(app[HANDOFFS], app[HUB]))
    sweeper = asyncio.create_task(sweep_sessions(app))
    yield
    for task in (watcher, sweeper):
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def sweep_sessions(app: web.Application, every: float = SWEEP_SECONDS) -> None:
    """End expired, idle and revoked agent sessions and close their WebSockets, every ``every`` seconds."""
    sessions, store = app[AGENT_SESSIONS], app[STORE]
    while True:
        await asyncio.sleep(every)
        try:
            await sessions.sweep(lambda session: account_current(store, session))
        except SQLAlchemyError as error:
            log.warning("agent sessions not checked, store unreachable: %s", error)


async def close_sockets(app: web.Application) -> None:
    await app[HUB].close_all()


def setup_console(app: web.Application) -> None:
    """Register the console's routes, context and shutdown hook on ``app``."""
    app.cleanup_ctx.append(console_ctx)
    app.on_shutdown.append(close_sockets)
    router = app.router
    router.add_get("/agent/login", views.get_login)
    router.add_post("/agent/login", views.post_login)
    router.add_post("/agent/logout", views.post_logout)
    router.add_get("/agent", views.get_console)
    router.add_get("/agent/ws", websockets.agent_stream)
    router.add_get("/agent/api/queue", views.get_queue)
    router.add_get("/agent/api/conversations/{handoff_id}", views.get_conversation)
    router.add_post("/agent/api/conversations/{handoff_id}/claim", views.post_claim)
    router.add_post("/agent/api/conversations/{handoff_id}/messages", views.post_message)
    router.add_post("/agent/api/conversations/{handoff_id}/hand-back", views.post_hand_back)
    router.add_post("/agent/api/conversations/{handoff_id}/close", views.post_close)
    router.add_get("/api/chat/stream", websockets.shopper_stream)
