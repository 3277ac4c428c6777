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
- the catalog search the web app calls instead of loading its own index (#15.7):
  ``POST /search``, ``GET /search/status``, ``POST /embed`` (:mod:`rasa_sdk_plugins.search`,
  which also starts loading the index in the background once the server is up, #15.5).
"""

from __future__ import annotations

import hmac
import logging
import secrets
import sys
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
    """Install the token check, the error handler, ``/metrics`` and the search routes; tokens come from the one settings module."""
    from assistant.observe.logs import configure_logging
    from assistant.settings import load_settings

    settings = load_settings()
    configure_logging(settings.log_format)  # JSON lines with the web app's request id (SHOP_LOG_FORMAT=text for people)
    app.register_middleware(token_guard(settings.action_server_token), "request")
    app.add_route(metrics_view(settings.metrics_token), METRICS_PATH, methods=["GET"], name="shop_metrics")
    # rasa-sdk registered its catch-all for ``Exception`` already, and Sanic refuses a second
    # ``add`` for the same key: replace the entry its lookup reads.
    app.error_handler.cached_handlers[(Exception, None)] = bare_error
    attach_search(app)


def attach_search(app: DefaultSanic) -> None:
    """The search routes for the web app (behind the token guard) and the index's background load."""
    from assistant.search_wire import EMBED_PATH, SEARCH_PATH, STATUS_PATH
    from rasa_sdk_plugins import search

    app.add_route(search.search_view, SEARCH_PATH, methods=["POST"], name="shop_search")
    app.add_route(search.status_view, STATUS_PATH, methods=["GET"], name="shop_search_status")
    app.add_route(search.embed_view, EMBED_PATH, methods=["POST"], name="shop_embed")
    app.register_listener(search.load_catalog_in_background, "after_server_start")


def init_hooks(manager: pluggy.PluginManager) -> None:
    """Called by rasa-sdk with its plugin manager: register this module's hooks."""
    manager.register(sys.modules[__name__])
