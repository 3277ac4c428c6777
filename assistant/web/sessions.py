"""Who is chatting: the anonymous session cookie, the store's customer token, the sender id.

Rasa keys a conversation by its sender id, so whoever chooses the id can read and write
that conversation.  The browser therefore never chooses it: we derive it here from a
session cookie we issued and signed, or from a customer id the store signed for us.

The cookie is ``<session id>.<issued, Unix seconds>.<signature>``: the server refuses it
after :data:`SESSION_MAX_AGE` whatever the browser keeps (a stolen cookie does not live
forever).  Over https it is named ``__Host-sa_session``, which browsers only accept
with ``Secure``, ``Path=/`` and no ``Domain``: a sibling subdomain cannot plant one.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web

from assistant.identity import DEFAULT_MAX_TTL, verify_customer_token
from assistant.observe.logs import keyed_id

SESSION_COOKIE = "sa_session"
SECURE_SESSION_COOKIE = f"__Host-{SESSION_COOKIE}"
SESSION_MAX_AGE = 30 * 24 * 3600
_SAFE_CUSTOMER_ID = re.compile(r"[A-Za-z0-9_.-]{1,64}")
_COOKIE_SHAPE = re.compile(r"([A-Za-z0-9_-]{16,64})\.([0-9]{1,12})\.([0-9a-f]{32})")

SESSION_ID = web.RequestKey("session_id", str)
NEW_SESSION = web.RequestKey("new_session", bool)


def _mac(secret: str, purpose: str, value: str) -> str:
    """HMAC-SHA256 of ``value`` under ``secret``, domain-separated by ``purpose``."""
    return hmac.new(secret.encode(), f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()


def sign_session(session_id: str, secret: str, issued: int | None = None) -> str:
    """The cookie value for a session id: ``<id>.<issued>.<signature>``."""
    issued = int(time.time()) if issued is None else issued
    return f"{session_id}.{issued}.{_mac(secret, 'session', f'{session_id}.{issued}')[:32]}"


def read_session(cookie: str | None, secret: str, now: float | None = None) -> str | None:
    """The session id of an unexpired cookie we signed, or ``None`` for anything else
    (missing, forged, expired, or not even ASCII: a hostile cookie is just no session)."""
    match = _COOKIE_SHAPE.fullmatch(cookie or "")
    if match is None:
        return None
    session_id, issued, signature = match.groups()
    expected = _mac(secret, "session", f"{session_id}.{issued}")[:32]
    if not hmac.compare_digest(signature, expected):
        return None
    current = time.time() if now is None else now
    return session_id if int(issued) <= current + 60 and current - int(issued) < SESSION_MAX_AGE else None


def cookie_name(request: web.Request) -> str:
    """``__Host-sa_session`` over https, ``sa_session`` on plain http (the demo on loopback)."""
    return SECURE_SESSION_COOKIE if request.secure else SESSION_COOKIE


def sender_for(session_id: str, customer_id: str | None, secret: str) -> str:
    """The Rasa sender id: per customer when signed in (their conversation follows them
    across devices), otherwise an HMAC of the session id that reveals nothing about it."""
    if customer_id is not None:
        if _SAFE_CUSTOMER_ID.fullmatch(customer_id):
            return f"web-customer-{customer_id}"
        return f"web-customer-{_mac(secret, 'customer', customer_id)[:32]}"
    return f"web-{_mac(secret, 'sender', session_id)[:32]}"


def log_id(value: str, secret: str) -> str:
    """A keyed hash of a sender or customer id for log lines: the same id gives the same
    tag (lines of one conversation can be followed), but logs name nobody."""
    return keyed_id(value, secret)


@dataclass(frozen=True)
class ShopperSession:
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


def identify(
    request: web.Request, store_secret: str, web_secret: str, body_token: str | None = None,
    max_ttl: int = DEFAULT_MAX_TTL,
) -> ShopperSession:
    """The shopper behind ``request``; the header token wins over the body's ``customer_token``.

    Raises :class:`InvalidCustomerToken` when a token is present but not valid: silently
    falling back to an anonymous chat would hide an expired login from the shopper.
    """
    token = bearer_token(request) or body_token or None
    customer_id = None
    if token is not None:
        customer_id = verify_customer_token(token, store_secret, max_ttl=max_ttl)
        if customer_id is None:
            raise InvalidCustomerToken
    session_id = request[SESSION_ID]
    return ShopperSession(session_id, customer_id, token, sender_for(session_id, customer_id, web_secret))


def session_middleware(web_secret: str) -> Callable[..., Awaitable[web.StreamResponse]]:
    """Give every request a session id; the storefront and API issue a signed session
    cookie when the browser has none (health checks and static files do not)."""

    @web.middleware
    async def middleware(
        request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        name = cookie_name(request)
        session_id = read_session(request.cookies.get(name), web_secret)
        request[NEW_SESSION] = session_id is None
        request[SESSION_ID] = session_id or secrets.token_urlsafe(24)
        response = await handler(request)
        if request[NEW_SESSION] and not response.prepared and (request.path == "/" or request.path.startswith("/api/")):
            response.set_cookie(
                name,
                sign_session(request[SESSION_ID], web_secret),
                max_age=SESSION_MAX_AGE,
                httponly=True,
                samesite="Lax",
                secure=request.secure,
                path="/",
            )
        return response

    return middleware
