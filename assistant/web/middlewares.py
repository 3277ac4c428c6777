"""Every error as JSON without internals, and security headers on every response.

Views raise :class:`ApiError` for what the client did wrong; aiohttp's own HTTP errors
(404, 405, 413 from the body-size cap) are rewritten to the same ``{"error": ...}`` shape;
anything unexpected is logged here and answered with a plain 500.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 128 * 1024  # a 10,000-character message fits even as \uXXXX escapes

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


def error_response(status: int, message: str, **extra: Any) -> web.Response:
    """The one JSON error shape: ``{"error": message, ...extra}``."""
    return web.json_response({"error": message, **extra}, status=status)


@web.middleware
async def error_middleware(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Turn every failure into a JSON error; never leak a traceback to the client."""
    try:
        return await handler(request)
    except ApiError as error:
        return error_response(error.status, error.message, **error.extra)
    except web.HTTPException as error:
        if error.status < 400:
            raise
        message = _FRAMEWORK_MESSAGES.get(error.status, error.reason.lower())
        return error_response(error.status, message)
    except Exception:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error_response(500, "internal error")


async def add_security_headers(request: web.Request, response: web.StreamResponse) -> None:
    """``on_response_prepare`` hook: applies to pages, API answers, errors and static files."""
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
