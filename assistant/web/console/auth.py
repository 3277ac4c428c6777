"""Agent sign-in: server-side sessions, the session cookie, and CSRF tokens.

The cookie holds only a random session token (HttpOnly, SameSite=Strict, Secure over
https); the session itself lives in this process, so logging out or restarting the web
app ends it for sure. Every state-changing request must carry the session's CSRF token
(a form field or the ``X-CSRF-Token`` header), and WebSockets must come from our own
origin, since browsers send cookies on cross-site WebSocket handshakes.
The login form, which has no session yet, uses a signed double-submit token instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from aiohttp import web

from assistant.web.live.hub import AgentIdentity

AGENT_COOKIE = "sa_agent"
LOGIN_CSRF_COOKIE = "sa_agent_login"
SESSION_SECONDS = 12 * 3600
# A console left alone this long signs out (an unattended, unlocked screen).
IDLE_SECONDS = 30 * 60
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"


@dataclass
class AgentSession:
    agent: AgentIdentity
    csrf_token: str = field(repr=False)
    expires_at: float
    epoch: int  # the account's session epoch at sign-in (a reset or disable raises it)
    last_seen: float
    sockets: set[web.WebSocketResponse] = field(default_factory=set)


@dataclass
class AgentSessions:
    """Live agent sessions by a hash of their cookie token (a leaked dump reveals no cookie).

    A session ends on logout, after ``SESSION_SECONDS``, after ``IDLE_SECONDS`` without a
    request, or when its account is disabled, removed or gets a new password; its console
    WebSockets are closed then too (at once on logout, by :meth:`sweep` otherwise).
    """

    clock: Callable[[], float] = time.time
    _by_hash: dict[str, AgentSession] = field(default_factory=dict)

    @staticmethod
    def _key(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    def start(self, agent: AgentIdentity, epoch: int = 0) -> tuple[str, AgentSession]:
        token = secrets.token_urlsafe(32)
        now = self.clock()
        session = AgentSession(agent, secrets.token_urlsafe(32), now + SESSION_SECONDS, epoch, now)
        self._by_hash[self._key(token)] = session
        return token, session

    def _over(self, session: AgentSession, now: float) -> bool:
        return session.expires_at < now or session.last_seen + IDLE_SECONDS < now

    def get(self, token: str | None) -> AgentSession | None:
        """The session of a request (which counts as activity), or ``None`` once it has ended."""
        if not token:
            return None
        key, now = self._key(token), self.clock()
        session = self._by_hash.get(key)
        if session is None:
            return None
        if self._over(session, now):
            del self._by_hash[key]
            _close_later(session)
            return None
        session.last_seen = now
        return session

    def end(self, token: str | None) -> None:
        """Logout: forget the session and close its WebSockets."""
        session = self._by_hash.pop(self._key(token), None) if token else None
        if session is not None:
            _close_later(session)

    async def sweep(self, still_valid: Callable[[AgentSession], Awaitable[bool]]) -> int:
        """End expired, idle and no longer valid sessions (closing their sockets); returns how many."""
        now, ended = self.clock(), 0
        for key, session in list(self._by_hash.items()):
            if self._over(session, now) or not await still_valid(session):
                if self._by_hash.pop(key, None) is not None:
                    await close_sockets(session)
                    ended += 1
        return ended

    def drop(self, session: AgentSession) -> None:
        """End ``session`` (found invalid by the caller) and close its sockets."""
        for key, live in list(self._by_hash.items()):
            if live is session:
                del self._by_hash[key]
                _close_later(session)


async def close_sockets(session: AgentSession) -> None:
    """Close the session's console WebSockets (4401: sign in again)."""
    for socket in list(session.sockets):
        with contextlib.suppress(ConnectionError, RuntimeError):
            await socket.close(code=4401, message=b"session ended")
    session.sockets.clear()


def _close_later(session: AgentSession) -> None:
    """Close the sockets from synchronous code running in the event loop."""
    if session.sockets:
        asyncio.get_running_loop().create_task(close_sockets(session))


def set_session_cookie(request: web.Request, response: web.StreamResponse, token: str) -> None:
    response.set_cookie(
        AGENT_COOKIE, token, max_age=SESSION_SECONDS, httponly=True, samesite="Strict",
        secure=request.secure, path="/agent",
    )


def login_csrf_pair(secret: str) -> tuple[str, str]:
    """A fresh (cookie value, form value) pair for the login form."""
    nonce = secrets.token_urlsafe(16)
    return nonce, hmac.new(secret.encode(), f"agent-login:{nonce}".encode(), hashlib.sha256).hexdigest()


def login_csrf_ok(request: web.Request, secret: str, offered: str) -> bool:
    nonce = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    expected = hmac.new(secret.encode(), f"agent-login:{nonce}".encode(), hashlib.sha256).hexdigest()
    return bool(nonce) and hmac.compare_digest(offered.encode(), expected.encode())


def same_origin(request: web.Request) -> bool:
    """Whether the request's ``Origin`` (sent by browsers on POSTs and WebSockets) is us."""
    origin = request.headers.get("Origin")
    return origin is not None and origin == f"{request.scheme}://{request.host}"


def csrf_ok(request: web.Request, session: AgentSession, offered: str | None) -> bool:
    token = offered or request.headers.get(CSRF_HEADER) or ""
    return hmac.compare_digest(token.encode(), session.csrf_token.encode())
