"""``GET /metrics`` (Prometheus) and ``GET /readyz`` (readiness) of the web app.

``/healthz`` says only that this process serves (liveness: restart me if it stops
answering). ``/readyz`` says whether a shopper's message can be answered now: Rasa, the
action server, its catalog index (``/api/search`` asks it) and the customer store must all be ready, else 503
naming the parts that are not, so a load balancer sends no traffic here meanwhile.
"""

from __future__ import annotations

import asyncio

import aiohttp
from aiohttp import web
from sqlalchemy.exc import SQLAlchemyError
from yarl import URL

from assistant.observe.metrics import CONTENT_TYPE, exposition, scrape_allowed
from assistant.web.keys import RASA, SEARCH, SETTINGS, STORE
from assistant.web.middlewares import ApiError

PROBE_SECONDS = 2.0


async def get_metrics(request: web.Request) -> web.Response:
    """This process's counters in the Prometheus text format, from loopback or with the metrics token."""
    if not scrape_allowed(request.remote, request.headers.get("Authorization", ""), request.app[SETTINGS].metrics_token):
        raise ApiError(401, "metrics are served to loopback, or with Authorization: Bearer <SHOP_METRICS_TOKEN>")
    response = web.Response(body=exposition())
    response.headers["Content-Type"] = CONTENT_TYPE
    return response


def action_server_health_url(endpoint: str) -> URL:
    """The action server's ``/health`` beside its ``/webhook`` (``ACTION_ENDPOINT_URL``)."""
    return URL(endpoint).with_path("/health").with_query(None)


async def _action_server_up(request: web.Request) -> bool:
    session = request.app[RASA].session
    url = action_server_health_url(request.app[SETTINGS].action_endpoint_url)
    try:
        async with session.get(url, timeout=aiohttp.ClientTimeout(total=PROBE_SECONDS)) as response:
            return response.status == 200
    except (aiohttp.ClientError, asyncio.TimeoutError):
        return False


def _store_up(request: web.Request) -> bool:
    try:
        request.app[STORE].ping()
        return True
    except SQLAlchemyError:
        return False


async def get_ready(request: web.Request) -> web.Response:
    """200 ``{"ready": true, ...}`` when every part answers; 503 with ``not_ready`` naming the others."""
    rasa, actions, index, store = await asyncio.gather(
        request.app[RASA].is_up(), _action_server_up(request), request.app[SEARCH].status(), asyncio.to_thread(_store_up, request)
    )
    parts = {"rasa": rasa, "action_server": actions, "index": index == "ready", "store": store}
    missing = [name for name, up in parts.items() if not up]
    body = {"ready": not missing, "parts": parts}
    if missing:
        body |= {"not_ready": missing, "error": f"not ready: {', '.join(missing)} unavailable"}
    return web.json_response(body, status=503 if missing else 200)
