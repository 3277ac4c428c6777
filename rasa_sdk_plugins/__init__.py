"""rasa-sdk plugin: the action server answers only the Rasa server that knows its token, and leaks nothing.

rasa-sdk imports this package at start-up (``rasa_sdk.plugin._discover_plugins``) and
calls :func:`init_hooks`; our hook changes the Sanic app in two ways:

- a request middleware: every path but ``/health`` needs ``Authorization: Bearer <token>``
  (Rasa sends it as a header from ``endpoints.yml``, ``action_endpoint.headers``), compared
  in constant time. A token in the query string is refused: URLs end up in access logs.
  ``/health`` stays open for the launcher and load balancers: it says nothing but "ok";
- an error handler replacing rasa-sdk's catch-all, which answers a 500 with the whole
  request body (the tracker: e-mails, order numbers, metadata with customer tokens) and
  logs it. Ours answers a bare error with a request id and logs the id with the
  traceback only; Sanic's 4xx (unknown route: 404, wrong method: 405) keep their status;
- ``GET /metrics``: the action server's Prometheus counters (searches, fallbacks, handoffs,
  recommendations, action errors), like the web app's: from loopback, or with
  ``Authorization: Bearer <SHOP_METRICS_TOKEN>`` (never with the action server's token,
  which a metrics scraper has no business holding);
- once the server is up, the catalog index and its encoder load in a background thread, so
  the first shopper's search does not wait for them (#15.5); a store without an index only
  logs it, and the first search retries and answers honestly.
"""

from __future__ import annotations

import hmac
import logging
import secrets
import sys
import threading
import time
from collections.abc import Callable, Coroutine
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

import pluggy
from sanic import Request, response
from sanic.exceptions import SanicException
from sanic.response import HTTPResponse

if TYPE_CHECKING:
    from sanic import DefaultSanic

hookimpl = pluggy.HookimplMarker("rasa_sdk")
OPEN_PATHS = frozenset({"/health"})
METRICS_PATH = "/metrics"  # guarded by its own rule (:func:`metrics_view`)
BEARER = "Bearer "
log = logging.getLogger(__name__)


def token_guard(expected: str) -> Callable[[Request], Coroutine[Any, Any, HTTPResponse | None]]:
    """A request middleware refusing every path but ``/health`` unless the bearer token is ``expected``."""
    wanted = expected.encode("utf-8")

    async def check_token(request: Request) -> HTTPResponse | None:
        if request.path in OPEN_PATHS or request.path == METRICS_PATH:
            return None
        if "token" in request.args:
            return response.json({"error": "send the token in the Authorization header, not the URL"}, status=401)
        header = request.headers.get("Authorization", "")
        given = header[len(BEARER):].strip().encode("utf-8") if header.startswith(BEARER) else b""
        if not wanted or not hmac.compare_digest(given, wanted):
            return response.json({"error": "missing or invalid token"}, status=401)
        return None

    return check_token


async def bare_error(request: Request, exception: Exception) -> HTTPResponse:
    """An error answer that names no part of the request; server errors get an id to find the log line."""
    status = exception.status_code if isinstance(exception, SanicException) else 500
    if status < 500:
        return response.json({"error": HTTPStatus(status).phrase.lower()}, status=status)
    request_id = secrets.token_hex(8)
    log.error("request %s (%s %s) failed", request_id, request.method, request.path, exc_info=exception)
    return response.json({"error": "internal error", "request_id": request_id}, status=500)


def metrics_view(metrics_token: str) -> Callable[[Request], Coroutine[Any, Any, HTTPResponse]]:
    """``GET /metrics``: this process's counters, to loopback or the metrics token's bearer."""
    from assistant.observe.metrics import CONTENT_TYPE, exposition, scrape_allowed

    async def metrics(request: Request) -> HTTPResponse:
        if not scrape_allowed(request.ip, request.headers.get("Authorization", ""), metrics_token):
            return response.json({"error": "metrics are served to loopback or with the metrics token"}, status=401)
        return response.raw(exposition(), content_type=CONTENT_TYPE)

    return metrics


@hookimpl
def attach_sanic_app_extensions(app: DefaultSanic) -> None:
    """Install the token check, the error handler and ``/metrics``; tokens come from the one settings module."""
    from assistant.observe.logs import configure_logging
    from assistant.settings import load_settings

    settings = load_settings()
    configure_logging(settings.log_format)  # JSON lines with the web app's request id (SHOP_LOG_FORMAT=text for people)
    app.register_middleware(token_guard(settings.action_server_token), "request")
    app.add_route(metrics_view(settings.metrics_token), METRICS_PATH, methods=["GET"], name="shop_metrics")
    # rasa-sdk registered its catch-all for ``Exception`` already, and Sanic refuses a second
    # ``add`` for the same key: replace the entry its lookup reads.
    app.error_handler.cached_handlers[(Exception, None)] = bare_error
    app.register_listener(load_catalog_in_background, "after_server_start")


async def load_catalog_in_background(app: DefaultSanic) -> None:
    """Start loading the actions' catalog searcher in a daemon thread (the event loop stays free)."""
    threading.Thread(target=_load_catalog, name="catalog-load", daemon=True).start()


def _load_catalog() -> None:
    from actions.context import searcher
    from catalog_index.errors import IndexUnavailable

    started = time.perf_counter()
    try:
        searcher()
    except IndexUnavailable as error:
        log.warning("catalog index not loaded at start (the first search will retry): %s", error.__cause__ or error)
        return
    log.info("catalog index and encoder loaded in %.1f s, before the first search", time.perf_counter() - started)


def init_hooks(manager: pluggy.PluginManager) -> None:
    """Called by rasa-sdk with its plugin manager: register this module's hooks."""
    manager.register(sys.modules[__name__])
