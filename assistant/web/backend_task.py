"""The store backend's periodic pass inside the web app (``SHOP_BACKEND_INTERVAL_SECONDS``, 0 = off).

Like the cart reminder's timer: ``shop-assistant backend deliver`` from cron does the same,
and both may run at once.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from aiohttp import web

from assistant.backend.runner import run_backend_loop
from assistant.web.keys import SETTINGS, STORE


async def backend_task_ctx(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    seconds = settings.backend_interval_seconds
    task = asyncio.create_task(run_backend_loop(settings, app[STORE], seconds)) if seconds > 0 else None
    yield
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def setup_backend_task(app: web.Application) -> None:
    app.cleanup_ctx.append(backend_task_ctx)
