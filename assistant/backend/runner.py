"""One place that runs the store backend's periodic work: deliver the outbox, tell waiting shoppers.

Both the web app's task (:mod:`assistant.web.backend_task`) and ``shop-assistant backend deliver``
call :func:`backend_pass`; running both at once is safe (entries are claimed, notices are told by
the action that marks them).
"""

from __future__ import annotations

import asyncio
import logging

import aiohttp

from assistant.backend.notify import tell_waiting
from assistant.backend.outbox import DeliveryReport, OutboxDeliverer, make_transport
from assistant.settings import Settings
from assistant.store.db import Store

log = logging.getLogger(__name__)


def configured(settings: Settings) -> bool:
    """Whether a transport can be built: a platform adapter, or the webhook with its URL."""
    return settings.backend != "webhook" or bool(settings.backend_webhook_url)


def make_deliverer(settings: Settings, store: Store, http: aiohttp.ClientSession) -> OutboxDeliverer:
    return OutboxDeliverer(
        store, make_transport(settings, http),
        base_delay=settings.backend_retry_base_seconds, max_delay=settings.backend_retry_max_seconds,
    )


async def backend_pass(settings: Settings, store: Store, deliverer: OutboxDeliverer | None
                       ) -> DeliveryReport:
    """Deliver what is due (when a backend is configured), then tell shoppers the store's answers."""
    report = await deliverer.run_until_idle() if deliverer is not None else DeliveryReport()
    await asyncio.to_thread(tell_waiting, settings, store)
    return report


async def run_backend_loop(settings: Settings, store: Store, interval: float) -> None:
    """Passes every ``interval`` seconds until cancelled; one failing pass is logged, not fatal."""
    async with aiohttp.ClientSession() as http:
        deliverer = make_deliverer(settings, store, http) if configured(settings) else None
        if deliverer is None:
            log.info("no store backend configured (SHOP_BACKEND_WEBHOOK_URL): requests wait in the outbox")
        while True:
            try:
                report = await backend_pass(settings, store, deliverer)
                if report.delivered or report.retrying or report.failed:
                    log.info("store backend: %s", report.summary())
            except Exception:
                log.exception("the store backend pass failed; trying again in %s s", interval)
            await asyncio.sleep(interval)
