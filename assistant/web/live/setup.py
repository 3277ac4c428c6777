"""Wiring of the live layer into the web app: store schema, hub, handoff service, watcher.

Demo profile (no ``SHOP_REDIS_URL``, no ``SHOP_RABBITMQ_URL``): one process, its hub
delivers to its own sockets and the watcher polls the open handoffs every second.
Production: the hub publishes through Redis pub/sub to every replica, the watch marks and a
per-pass lock live in Redis so replicas take turns, and Rasa's events from RabbitMQ say when
to look instead of a poll.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Coroutine
from typing import Any

from aiohttp import web
from sqlalchemy.exc import SQLAlchemyError

from assistant.store.db import migrate
from assistant.store_policy import load_store_policy
from assistant.web.keys import RASA, SETTINGS, STORE
from assistant.web.live.broker import EventConsumer
from assistant.web.live.handoffs import HandoffService
from assistant.web.live.hub import Hub
from assistant.web.live.keys import HANDOFFS, HUB
from assistant.web.live.relay import RedisRelay
from assistant.web.live.shared import RedisMarks, connect, exclusive, namespace
from assistant.web.live.watcher import POLL_SECONDS, watch

log = logging.getLogger(__name__)
PASS_LOCK_MS = 30_000  # frees the watch-pass lock of a replica that died inside a pass


async def live_ctx(app: web.Application) -> AsyncIterator[None]:
    """The store (migrated to head), the hub, the handoff service and its watcher, for the app's lifetime.

    Must run after the Rasa client and store contexts (it uses ``app[RASA]`` and
    ``app[STORE]``). An unreachable store must not keep the shop's chat down: the app
    starts anyway, and the console and the hold check answer honestly until it is back.
    """
    settings = app[SETTINGS]
    try:
        if settings.profile == "demo":  # production: `db migrate` owns the schema (checked by run_web)
            await asyncio.to_thread(migrate, settings.database_url)
    except SQLAlchemyError as error:
        log.error("customer store unreachable at start-up, console unavailable until it is back: %s", error)
    hub = Hub()
    jobs: list[Coroutine[Any, Any, None]] = []
    policy = load_store_policy(settings.policy_file)
    poll = None if settings.rabbitmq_url else POLL_SECONDS
    redis = connect(settings.redis_url) if settings.redis_url else None
    if redis is None:
        service = HandoffService(app[STORE], app[RASA], hub, policy, settings=settings)
        watcher = watch(service, hub, poll)
    else:
        space = namespace(settings.redis_url, settings.database_url)
        relay = hub.relay = RedisRelay(redis, space + "live")
        jobs.append(relay.listen(hub))
        service = HandoffService(app[STORE], app[RASA], hub, policy, RedisMarks(redis, space + "live:marks"), settings)
        watcher = watch(service, hub, poll, lambda: exclusive(redis, space + "live:pass", PASS_LOCK_MS))
    if settings.rabbitmq_url:
        jobs.append(EventConsumer(settings.rabbitmq_url, settings.rabbitmq_exchange, hub).run())
    app[HUB], app[HANDOFFS] = hub, service
    tasks = [asyncio.create_task(job) for job in (watcher, *jobs)]
    yield
    for task in tasks:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    if redis is not None:
        await redis.aclose()


async def close_sockets(app: web.Application) -> None:
    await app[HUB].close_all()


def setup_live(app: web.Application) -> None:
    """Add the live context and the shutdown hook that closes every WebSocket."""
    app.cleanup_ctx.append(live_ctx)
    app.on_shutdown.append(close_sockets)
