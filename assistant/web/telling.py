"""Telling shoppers what the store said, after the store's request has been answered.

Both ways in for the store's updates (``POST /api/events`` and the platforms' webhooks) store the
notices first and tell them afterwards, so a slow Rasa never holds up the store's request; a notice
whose telling fails is retried by the backend task (:mod:`assistant.web.backend_task`).
"""

from __future__ import annotations

import asyncio

from aiohttp import web

from assistant.backend.notify import tell_waiting
from assistant.web.keys import SETTINGS, STORE

_TELLING: set[asyncio.Task[int]] = set()  # strong references until done (asyncio keeps only weak ones)


def tell_shoppers_soon(app: web.Application) -> None:
    """Start telling every waiting notice in the background and return at once."""
    task = asyncio.create_task(asyncio.to_thread(tell_waiting, app[SETTINGS], app[STORE]))
    _TELLING.add(task)
    task.add_done_callback(_TELLING.discard)
