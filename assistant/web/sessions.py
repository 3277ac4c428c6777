"""Who is chatting: the anonymous session cookie, the store's customer token, the sender id.

Rasa keys a conversation by its sender id, so whoever chooses the id can read and write
that conversation.  The browser therefore never chooses it: we derive it here from a
session cookie we issued and signed, or from a customer id the store signed for us.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web

from assistant.identity import verify_customer_token

SESSION_COOKIE = "sa_session"
SESSION_MAX_AGE = 30 * 24 * 3600
_SAFE_CUSTOMER_ID = re.compile(r"[A-Za-z0-9_.-]{1,64}")

SESSION_ID = web.RequestKey("session_id", str)
NEW_SESSION = web.RequestKey("new_session", bool)


def _mac(secret: str, purpose: str, value: str) -> str:
    """HMAC-SHA256 of ``value`` under ``secret``, domain-separated by ``purpose``."""
    return hmac.new(secret.encode(), f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()


def sign_session(session_id: str, secret: str) -> str:
    """The cookie value for a session id: ``<id>.<signature>``."""
    return f"{session_id}.{_mac(secret, 'session', session_id)[:32]}"


def read_session(cookie: str | None, secret: str) -> str | None:
    """The session id of a cookie we signed, or ``None`` for a missing or forged one."""
    if not cookie or cookie.count(".") != 1:
        return None
    session_id, signature = cookie.split(".")
    expected = _mac(secret, "session", session_id)[:32]
    return session_id if session_id and hmac.compare_digest(signature, expected) else None


def sender_for(session_id: str, customer_id: str | None, secret: str) -> str:
    """The Rasa sender id: per customer when signed in (their conversation follows them
    across devices), otherwise an HMAC of the session id that reveals nothing about it."""
    if customer_id is not None:
        if _SAFE_CUSTOMER_ID.fullmatch(customer_id):
            return f"web-customer-{customer_id}"
        return f"web-customer-{_mac(secret, 'customer', customer_id)[:32]}"
    return f"web-{_mac(secret, 'sender', session_id)[:32]}"


@dataclass(frozen=True)
class Shopper:
    """The identity one request speaks for."""

    session_id: str
    customer_id: str | None
    customer_token: str | None
    sender: str


class InvalidCustomerToken(Exception):
    """The request carried a customer token that is forged, malformed or expired."""


def bearer_token(request: web.Request) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, if any."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def identify(request: web.Request, store_secret: str, web_secret: str, body_token: str | None = None) -> Shopper:
    """The shopper behind ``request``; the header token wins over the body's ``customer_token``.

    Raises :class:`InvalidCustomerToken` when a token is present but not valid: silently
    falling back to an anonymous chat would hide an expired login from the shopper.
    """
    token = bearer_token(request) or body_token or None
    customer_id = None
    if token is not None:
        customer_id = verify_customer_token(token, store_secret)
        if customer_id is None:
            raise InvalidCustomerToken
    session_id = request[SESSION_ID]
    return Shopper(session_id, customer_id, token, sender_for(session_id, customer_id, web_secret))


def session_middleware(web_secret: str) -> Callable[..., Awaitable[web.StreamResponse]]:
    """Give every request a session id; the storefront and API issue a signed ``sa_session``
    cookie when the browser has none (health checks and static files do not)."""

    @web.middleware
    async def middleware(
        request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        session_id = read_session(request.cookies.get(SESSION_COOKIE), web_secret)
        request[NEW_SESSION] = session_id is None
        request[SESSION_ID] = session_id or secrets.token_urlsafe(24)
        response = await handler(request)
        if request[NEW_SESSION] and (request.path == "/" or request.path.startswith("/api/")):
            response.set_cookie(
                SESSION_COOKIE,
                sign_session(request[SESSION_ID], web_secret),
                max_age=SESSION_MAX_AGE,
                httponly=True,
                samesite="Lax",
                secure=request.secure,
                path="/",
            )
        return response

    return middleware
