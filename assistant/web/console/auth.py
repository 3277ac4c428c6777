"""Agent sign-in: server-side sessions, the session cookie, and CSRF tokens.

The cookie holds only a random session token (HttpOnly, SameSite=Strict, Secure over
https); the session itself lives in this process, so logging out or restarting the web
app ends it for sure. Every state-changing request must carry the session's CSRF token
(a form field or the ``X-CSRF-Token`` header), and WebSockets must come from our own
origin, since browsers send cookies on cross-site WebSocket handshakes.
The login form, which has no session yet, uses a signed double-submit token instead.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass, field

from aiohttp import web

from assistant.web.console.hub import AgentIdentity

AGENT_COOKIE = "sa_agent"
LOGIN_CSRF_COOKIE = "sa_agent_login"
SESSION_SECONDS = 12 * 3600
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"


@dataclass
class AgentSession:
    agent: AgentIdentity
    csrf_token: str
    expires_at: float


@dataclass
class AgentSessions:
    """Live agent sessions by a hash of their cookie token (a leaked dump reveals no cookie)."""

    _by_hash: dict[str, AgentSession] = field(default_factory=dict)

    @staticmethod
    def _key(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    def start(self, agent: AgentIdentity) -> tuple[str, AgentSession]:
        token = secrets.token_urlsafe(32)
        session = AgentSession(agent, secrets.token_urlsafe(32), time.time() + SESSION_SECONDS)
        self._by_hash[self._key(token)] = session
        return token, session

    def get(self, token: str | None) -> AgentSession | None:
        if not token:
            return None
        session = self._by_hash.get(self._key(token))
        if session is not None and session.expires_at < time.time():
            del self._by_hash[self._key(token)]
            return None
        return session

    def end(self, token: str | None) -> None:
        if token:
            self._by_hash.pop(self._key(token), None)


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
