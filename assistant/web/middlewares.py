"""Every error as JSON without internals, the Host check, and security headers on every response.

Views raise :class:`ApiError` for what the client did wrong; aiohttp's own HTTP errors
(404, 405, 413 from the body-size cap) are rewritten to the same ``{"error": ...}`` shape;
anything unexpected is logged here and answered with a JSON 500. :func:`guard_middleware`
runs first of all: it answers a request for a Host we do not serve (DNS rebinding: a
hostile page whose name resolves to 127.0.0.1 would otherwise talk to a local demo with
the shopper's browser) and catches what a later middleware might still raise.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from aiohttp import web

from assistant.web.proxies import as_seen_by_client

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 128 * 1024  # a 10,000-character message fits even as \uXXXX escapes
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
HSTS = "max-age=31536000; includeSubDomains"

SECURITY_HEADERS = {
    # Product images may live on the store's CDN, hence https: for images only.
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' https: data:; object-src 'none'; "
        "base-uri 'none'; form-action 'self'; frame-ancestors 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "SAMEORIGIN",
    "Referrer-Policy": "same-origin",
}

_FRAMEWORK_MESSAGES = {
    404: "not found",
    405: "method not allowed",
    413: f"request body too large (the limit is {MAX_BODY_BYTES:,} bytes)",
}


class ApiError(Exception):
    """A client error with the status and message the client should see."""

    def __init__(self, status: int, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.extra = extra


def error_response(status: int, message: str, headers: dict[str, str] | None = None, **extra: Any) -> web.Response:
    """The one JSON error shape: ``{"error": message, ...extra}``."""
    return web.json_response({"error": message, **extra}, status=status, headers=headers)


def route_of(request: web.Request) -> str:
    """The route's pattern (``/api/me/export/{link}``) rather than the path, for logs: paths
    may carry an export link, which names a customer."""
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else "(no route)"


def _from_exception(request: web.Request, error: Exception) -> web.Response:
    if isinstance(error, ApiError):
        headers = error.extra.pop("headers", None)
        return error_response(error.status, error.message, headers=headers, **error.extra)
    if isinstance(error, web.HTTPException) and error.status >= 400:
        return error_response(error.status, _FRAMEWORK_MESSAGES.get(error.status, error.reason.lower()))
    log.exception("unhandled error on %s %s", request.method, route_of(request), exc_info=error)
    return error_response(500, "internal error")


@web.middleware
async def error_middleware(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Turn every failure into a JSON error; never leak a traceback to the client."""
    return await _answer_errors_as_json(request, handler)


async def _answer_errors_as_json(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """``handler``'s response, or a JSON error for any failure (redirects pass through)."""
    try:
        return await handler(request)
    except web.HTTPException as error:
        if error.status < 400:
            raise
        return _from_exception(request, error)
    except Exception as error:
        return _from_exception(request, error)


def host_name(host: str) -> str:
    """The name part of a ``Host`` header (no port, no brackets, lower case)."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1:].partition("]")[0]
    return host.rpartition(":")[0] if host.count(":") == 1 else host


def guard_middleware(allowed_hosts: Iterable[str]) -> Callable[..., Awaitable[web.StreamResponse]]:
    """The outermost middleware: the Host allowlist (``SHOP_ALLOWED_HOSTS``, default the
    loopback names) and a last JSON answer for anything the other middlewares raise."""
    allowed = frozenset(host_name(host) for host in allowed_hosts) or frozenset(LOOPBACK_HOSTS)

    @web.middleware
    async def middleware(
        request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        # request.host: the Host header, or a trusted proxy's X-Forwarded-Host (assistant/web/proxies.py)
        if not request.headers.get("Host") or host_name(request.host) not in allowed:
            return error_response(400, "this server does not serve that host name (see SHOP_ALLOWED_HOSTS)")
        return await _answer_errors_as_json(request, handler)

    return middleware


async def add_security_headers(request: web.Request, response: web.StreamResponse) -> None:
    """``on_response_prepare`` hook: applies to pages, API answers, errors and static files.

    HSTS only over https (on plain http browsers ignore it, and the demo runs there);
    nothing under ``/api/`` is cached, since answers carry a shopper's conversation or data.
    """
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if as_seen_by_client(request).secure:
        response.headers.setdefault("Strict-Transport-Security", HSTS)
    if request.path.startswith("/api/"):
        response.headers["Cache-Control"] = "no-store"
