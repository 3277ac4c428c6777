"""The agent console's pages (login, console) and its JSON API under ``/agent/api``.

Pages are server-rendered with every value HTML-escaped; the console's script renders
all conversation content with ``textContent``. Every POST needs the session's CSRF token.
"""

from __future__ import annotations

import asyncio
import html
from pathlib import Path
from string import Template
from typing import Any

from aiohttp import web
from redis.exceptions import RedisError

from assistant.agents import authenticate, session_valid
from assistant.store.db import Store
from assistant.web.console.auth import (
    AGENT_COOKIE,
    CSRF_FIELD,
    LOGIN_CSRF_COOKIE,
    AgentSession,
    csrf_ok,
    login_csrf_ok,
    login_csrf_pair,
    same_origin,
    set_session_cookie,
)
from assistant.web.console.keys import AGENT_SESSIONS, LOGIN_THROTTLE
from assistant.web.keys import SETTINGS, STORE
from assistant.web.live.handoffs import ConsoleError
from assistant.web.live.hub import AgentIdentity
from assistant.web.live.keys import HANDOFFS
from assistant.web.middlewares import ApiError
from assistant.web.parsing import read_json_object
from assistant.web.rasa_client import RasaUnavailable
from assistant.web.rate_limit import client_address

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
LOGIN_PAGE = Template((TEMPLATES / "login.html").read_text())
CONSOLE_PAGE = Template((TEMPLATES / "console.html").read_text())
MAX_REPLY_CHARS = 4_000


SESSIONS_DOWN = "agent sessions are unavailable right now (their store does not answer); try again in a minute"


async def current_session(request: web.Request) -> AgentSession | None:
    """The request's session as the session store knows it (expiry and idle time checked, not the account)."""
    try:
        return await request.app[AGENT_SESSIONS].get(request.cookies.get(AGENT_COOKIE))
    except RedisError:
        raise ApiError(503, SESSIONS_DOWN) from None


async def account_current(store: Store, session: AgentSession) -> bool:
    """Whether the session's account still exists, is enabled and has not changed password since sign-in."""

    def check() -> bool:
        with store.unit_of_work() as uow:
            return session_valid(uow.agents, session.agent.id, session.epoch)

    return await asyncio.to_thread(check)


async def live_session(request: web.Request) -> AgentSession | None:
    """The request's session if it is still good, the account checked in the store (a disable takes effect at once)."""
    session = await current_session(request)
    if session is not None and not await account_current(request.app[STORE], session):
        await request.app[AGENT_SESSIONS].drop(session)
        return None
    return session


def _redirect(location: str) -> web.Response:
    return web.Response(status=303, headers={"Location": location, "Cache-Control": "no-store"})


def _page(text: str, status: int = 200) -> web.Response:
    return web.Response(text=text, status=status, content_type="text/html", headers={"Cache-Control": "no-store"})


def _login_page(request: web.Request, error: str = "", status: int = 200) -> web.Response:
    nonce, token = login_csrf_pair(request.app[SETTINGS].web_secret)
    response = _page(LOGIN_PAGE.substitute(csrf_token=token, error=html.escape(error)), status)
    response.set_cookie(LOGIN_CSRF_COOKIE, nonce, httponly=True, samesite="Strict", secure=request.secure, path="/agent")
    return response


async def get_login(request: web.Request) -> web.StreamResponse:
    if await current_session(request) is not None:
        return _redirect("/agent")
    return _login_page(request)


async def post_login(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    if not login_csrf_ok(request, request.app[SETTINGS].web_secret, str(form.get(CSRF_FIELD, ""))):
        return _login_page(request, "Your login form expired; please try again.", status=403)
    username, password = str(form.get("username", "")).strip(), str(form.get("password", ""))
    throttle = request.app[LOGIN_THROTTLE]
    try:
        attempt = await throttle.attempt(username, client_address(request))
    except RedisError:
        return _login_page(request, "Sign-in is unavailable right now; please try again in a minute.", status=503)
    if attempt.retry_after is not None:
        minutes = max(1, round(attempt.retry_after / 60))
        return _login_page(request, f"Too many failed sign-ins; try again in about {minutes} minute(s).", status=429)

    def check() -> tuple[AgentIdentity, int] | None:
        with request.app[STORE].unit_of_work() as uow:
            agent = authenticate(uow.agents, username, password)
            identity = AgentIdentity(agent.id, agent.username, agent.role, agent.display_name) if agent else None
            return (identity, agent.session_epoch) if agent and identity else None

    signed_in = await asyncio.to_thread(check)
    if signed_in is None:
        return _login_page(request, "Wrong username or password.", status=401)
    await throttle.succeeded(attempt)
    token, _ = await request.app[AGENT_SESSIONS].start(*signed_in)
    response = _redirect("/agent")
    set_session_cookie(request, response, token)
    response.del_cookie(LOGIN_CSRF_COOKIE, path="/agent")
    return response


async def post_logout(request: web.Request) -> web.StreamResponse:
    session = await live_session(request)
    form = await request.post()
    if session is None or not csrf_ok(request, session, str(form.get(CSRF_FIELD, ""))):
        raise ApiError(403, "not signed in, or the form's CSRF token is missing")
    await request.app[AGENT_SESSIONS].end(request.cookies.get(AGENT_COOKIE))
    response = _redirect("/agent/login")
    response.del_cookie(AGENT_COOKIE, path="/agent")
    return response


async def get_console(request: web.Request) -> web.StreamResponse:
    session = await live_session(request)
    if session is None:
        return _redirect("/agent/login")
    return _page(
        CONSOLE_PAGE.substitute(
            csrf_token=html.escape(session.csrf_token), username=html.escape(session.agent.username),
            role=html.escape(session.agent.role),
        )
    )


async def api_agent(request: web.Request) -> AgentIdentity:
    """The signed-in agent of an API call; POSTs must also carry the CSRF token."""
    session = await live_session(request)
    if session is None:
        raise ApiError(401, "sign in at /agent/login first")
    if request.method != "GET" and not csrf_ok(request, session, None):
        raise ApiError(403, "missing or wrong CSRF token")
    if request.method != "GET" and "Origin" in request.headers and not same_origin(request):
        raise ApiError(403, "cross-origin request refused")
    return session.agent


def _handoff_id(request: web.Request) -> int:
    try:
        return int(request.match_info["handoff_id"])
    except ValueError:
        raise ApiError(404, "no such conversation") from None


async def _run(coroutine: Any) -> Any:
    try:
        return await coroutine
    except ConsoleError as error:
        raise ApiError(error.status, error.message) from None
    except RasaUnavailable:
        raise ApiError(503, "the assistant server is not answering; nothing was changed, try again") from None


async def get_queue(request: web.Request) -> web.Response:
    agent = await api_agent(request)
    queue, total = await request.app[HANDOFFS].console_queue()
    # Unclaimed conversations and the agent's own; an admin sees every one.
    items = [{**handoff.as_json(), "readable": True} for handoff in queue if agent.may_read(handoff.claimed_by)]
    return web.json_response({"me": {"username": agent.username, "role": agent.role}, "queue": items, "total": total})


async def get_conversation(request: web.Request) -> web.Response:
    agent = await api_agent(request)
    return web.json_response(await _run(request.app[HANDOFFS].details(agent, _handoff_id(request))))


async def post_claim(request: web.Request) -> web.Response:
    agent = await api_agent(request)
    handoff = await _run(request.app[HANDOFFS].claim(agent, _handoff_id(request)))
    return web.json_response({"claimed": handoff.id})


async def post_message(request: web.Request) -> web.Response:
    agent = await api_agent(request)
    body = await read_json_object(request)
    text = body.get("text")
    if not isinstance(text, str) or not text.strip():
        raise ApiError(400, 'the body needs a non-empty "text" string')
    if len(text) > MAX_REPLY_CHARS:
        raise ApiError(400, f"a reply is at most {MAX_REPLY_CHARS:,} characters")
    message = await _run(request.app[HANDOFFS].reply(agent, _handoff_id(request), text.strip()))
    return web.json_response({"message": message})


async def post_hand_back(request: web.Request) -> web.Response:
    agent = await api_agent(request)
    await _run(request.app[HANDOFFS].finish(agent, _handoff_id(request), "bot"))
    return web.json_response({"status": "bot_resumed"})


async def post_close(request: web.Request) -> web.Response:
    agent = await api_agent(request)
    await _run(request.app[HANDOFFS].finish(agent, _handoff_id(request), "closed"))
    return web.json_response({"status": "closed"})
