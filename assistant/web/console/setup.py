"""Wiring of the agent console into the web app: agent sessions, login throttle, session sweeper."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from aiohttp import web
from redis.exceptions import RedisError
from sqlalchemy.exc import SQLAlchemyError

from assistant.web.console.auth import AgentSessions
from assistant.web.console.keys import AGENT_SESSIONS, LOGIN_THROTTLE
from assistant.web.console.session_store import make_session_store
from assistant.web.console.throttle import make_throttle
from assistant.web.console.views import account_current
from assistant.web.keys import SETTINGS, STORE

log = logging.getLogger(__name__)
# How soon a console WebSocket closes after its session expired, idled out or was revoked.
SWEEP_SECONDS = 30.0


async def console_ctx(app: web.Application) -> AsyncIterator[None]:
    """Agent sessions, the login throttle and the sweeper of ended sessions, for the app's lifetime.

    Both live in Redis when ``SHOP_REDIS_URL`` is set (any web replica accepts any agent's
    session, the throttle counts across replicas), else in this process (the demo profile).
    """
    settings = app[SETTINGS]
    app[AGENT_SESSIONS] = AgentSessions(make_session_store(settings))
    app[LOGIN_THROTTLE] = make_throttle(settings)
    sweeper = asyncio.create_task(sweep_sessions(app))
    yield
    sweeper.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await sweeper
    await app[AGENT_SESSIONS].store.close()
    await app[LOGIN_THROTTLE].close()


async def sweep_sessions(app: web.Application, every: float = SWEEP_SECONDS) -> None:
    """End expired, idle and revoked agent sessions and close their WebSockets, every ``every`` seconds."""
    sessions, store = app[AGENT_SESSIONS], app[STORE]
    while True:
        await asyncio.sleep(every)
        try:
            await sessions.sweep(lambda session: account_current(store, session))
        except (SQLAlchemyError, RedisError) as error:
            log.warning("agent sessions not checked, store unreachable: %s", error)


def setup_console(app: web.Application) -> None:
    """Add the console's context to ``app`` (its routes are in :mod:`assistant.web.routes`)."""
    app.cleanup_ctx.append(console_ctx)
