"""Agent sign-in: server-side sessions, the session cookie, and CSRF tokens.

The cookie holds only a random session token (HttpOnly, SameSite=Strict, Secure over
https); the session itself lives on the server (:mod:`assistant.web.console.session_store`:
this process in the demo profile, Redis shared by every web replica in production), so
logging out ends it for sure, on every replica. Every state-changing request must carry the session's CSRF token
(a form field or the ``X-CSRF-Token`` header), and WebSockets must come from our own
origin, since browsers send cookies on cross-site WebSocket handshakes.
The login form, which has no session yet, uses a signed double-submit token instead.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import math
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import web

from assistant.web.live.hub import AgentIdentity

if TYPE_CHECKING:
    from assistant.web.console.session_store import SessionStore

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
    key: str = field(default="", repr=False)  # the hash of its cookie token, its name in the store

    def ends_at(self) -> float:
        """When it ends unless it is used again (absolute lifetime or idle time, the earlier)."""
        return min(self.expires_at, self.last_seen + IDLE_SECONDS)

    def as_json(self) -> dict[str, Any]:
        return {"agent": asdict(self.agent), "csrf_token": self.csrf_token, "expires_at": self.expires_at,
                "epoch": self.epoch, "last_seen": self.last_seen}

    @classmethod
    def from_json(cls, key: str, data: dict[str, Any]) -> AgentSession:
        return cls(AgentIdentity(**data["agent"]), data["csrf_token"], float(data["expires_at"]), int(data["epoch"]),
                   float(data["last_seen"]), key)


@dataclass
class AgentSessions:
    """Agent sessions by a hash of their cookie token (a leaked dump reveals no cookie), in a
    :class:`~assistant.web.console.session_store.SessionStore`, and the console WebSockets
    this process holds for each.

    A session ends on logout, after ``SESSION_SECONDS``, after ``IDLE_SECONDS`` without a
    request, or when its account is disabled, removed or gets a new password; its console
    WebSockets are closed then too (at once on logout here, by :meth:`sweep` otherwise and
    on other replicas).
    """

    store: SessionStore
    clock: Callable[[], float] = time.time
    _sockets: dict[str, set[web.WebSocketResponse]] = field(default_factory=dict)

    @staticmethod
    def _key(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    async def _save(self, session: AgentSession, now: float) -> None:
        await self.store.save(session.key, session, max(1, math.ceil(session.ends_at() - now)))

    async def start(self, agent: AgentIdentity, epoch: int = 0) -> tuple[str, AgentSession]:
        token = secrets.token_urlsafe(32)
        now = self.clock()
        session = AgentSession(agent, secrets.token_urlsafe(32), now + SESSION_SECONDS, epoch, now, self._key(token))
        await self._save(session, now)
        return token, session

    async def get(self, token: str | None) -> AgentSession | None:
        """The session of a request (which counts as activity), or ``None`` once it has ended."""
        if not token:
            return None
        key, now = self._key(token), self.clock()
        session = await self.store.load(key)
        if session is None:
            return None
        if session.ends_at() < now:
            await self.drop(session)
            return None
        session.last_seen = now
        await self._save(session, now)
        return session

    async def end(self, token: str | None) -> None:
        """Logout: forget the session (on every replica: they share the store) and close its WebSockets here."""
        if token:
            await self._forget(self._key(token))

    def attach(self, session: AgentSession, socket: web.WebSocketResponse) -> None:
        """Count ``socket`` as one of the session's, to close it when the session ends."""
        self._sockets.setdefault(session.key, set()).add(socket)

    def detach(self, session: AgentSession, socket: web.WebSocketResponse) -> None:
        sockets = self._sockets.get(session.key)
        if sockets is not None:
            sockets.discard(socket)
            if not sockets:
                del self._sockets[session.key]

    async def sweep(self, still_valid: Callable[[AgentSession], Awaitable[bool]]) -> int:
        """End expired, idle and no longer valid sessions (closing their sockets here); returns how many.

        Looks at the sessions this process holds sockets for (one ended on another replica
        is gone from the shared store) and at whatever the store cannot expire by itself.
        """
        now, ended = self.clock(), 0
        for key in {*self._sockets, *await self.store.unexpiring_keys()}:
            session = await self.store.load(key)
            if session is None:
                await close_sockets(self._sockets.pop(key, set()))
                continue
            if session.ends_at() < now or not await still_valid(session):
                await self.drop(session)
                ended += 1
        return ended

    async def drop(self, session: AgentSession) -> None:
        """End ``session`` (found invalid by the caller) and close its sockets here."""
        await self._forget(session.key)

    async def _forget(self, key: str) -> None:
        await self.store.delete(key)
        await close_sockets(self._sockets.pop(key, set()))


async def close_sockets(sockets: set[web.WebSocketResponse]) -> None:
    """Close a session's console WebSockets (4401: sign in again)."""
    for socket in list(sockets):
        with contextlib.suppress(ConnectionError, RuntimeError):
            await socket.close(code=4401, message=b"session ended")


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
