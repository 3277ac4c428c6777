"""Work the web app runs beside its requests for as long as it serves (timers, delivery loops).

One shape for all of them: the job is started when the app starts, if its setting asks for it,
and cancelled and awaited when the app stops, so a restart never leaves a pass half-run
in the background of a closed event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any

from aiohttp import web

Job = Callable[[web.Application], Coroutine[Any, Any, None] | None]


def run_in_background(app: web.Application, job: Job) -> None:
    """Run the coroutine ``job(app)`` returns for the app's lifetime; ``None`` means "not configured"."""

    async def lifetime(app: web.Application) -> AsyncIterator[None]:
        coroutine = job(app)
        task = asyncio.create_task(coroutine) if coroutine is not None else None
        yield
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    app.cleanup_ctx.append(lifetime)
