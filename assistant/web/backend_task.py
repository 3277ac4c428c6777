"""The store backend's periodic pass inside the web app (``SHOP_BACKEND_INTERVAL_SECONDS``, 0 = off).

Like the cart reminder's timer: ``shop-assistant backend deliver`` from cron does the same,
and both may run at once.
"""

from __future__ import annotations

from collections.abc import Coroutine
from typing import Any

from aiohttp import web

from assistant.backend.runner import run_backend_loop
from assistant.web.background import run_in_background
from assistant.web.keys import SETTINGS, STORE


def setup_backend_task(app: web.Application) -> None:
    def job(app: web.Application) -> Coroutine[Any, Any, None] | None:
        settings = app[SETTINGS]
        seconds = settings.backend_interval_seconds
        return run_backend_loop(settings, app[STORE], seconds) if seconds > 0 else None

    run_in_background(app, job)
