"""Agent accounts and sign-in: Argon2 hashes, the CLI, login/logout, session and CSRF checks.

The web app runs for real on a loopback port; no Rasa is needed for these paths.
"""

from __future__ import annotations

import asyncio
import io
import secrets
import sys
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from sqlalchemy import select

from assistant.agents import AccountError, add_agent, authenticate
from assistant.cli import main
from assistant.settings import Settings
from assistant.store.db import UnitOfWork, make_engine, make_session_factory
from assistant.store.models import Agent
from assistant.web.app import create_app
from assistant.web.console.keys import LOGIN_THROTTLE
from assistant.web.console.throttle import (
    MAX_FAILURES_PER_ADDRESS,
    MAX_FAILURES_PER_USERNAME,
    WINDOW_SECONDS,
    LoginThrottle,
    RedisLoginThrottle,
    Throttle,
)
from tests.agent_console import AgentClient, create_agent, hidden_csrf, server, settings
from tests.production_services import redis_test_url, require

PASSWORD = "correct horse battery"



def test_passwords_are_stored_as_argon2id_hashes(settings: Settings) -> None:
    engine = make_engine(settings.database_url)
    try:
        with UnitOfWork(make_session_factory(engine)) as uow:
            agent = add_agent(uow.agents, "dana", PASSWORD, "admin")
            assert agent.password_hash.startswith("$argon2id$") and PASSWORD not in agent.password_hash
            assert authenticate(uow.agents, "dana", PASSWORD) is agent
            assert authenticate(uow.agents, "dana", PASSWORD + "!") is None
            assert authenticate(uow.agents, "nobody", PASSWORD) is None
            with pytest.raises(AccountError, match="already exists"):
                add_agent(uow.agents, "dana", PASSWORD)
            with pytest.raises(AccountError, match="at least 10 characters"):
                add_agent(uow.agents, "eve", "short")
            with pytest.raises(AccountError, match="username"):
                add_agent(uow.agents, "<script>", PASSWORD)
    finally:
        engine.dispose()


def test_cli_adds_an_agent_with_the_password_from_stdin(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(PASSWORD + "\n"))
    argv = ["--data-dir", str(settings.data_dir), "agents", "add", "frank", "--role", "admin", "--password-stdin"]
    monkeypatch.setenv("SHOP_DATABASE_URL", settings.database_url)
    assert main(argv) == 0
    engine = make_engine(settings.database_url)
    try:
        with UnitOfWork(make_session_factory(engine)) as uow:
            agent = uow.session.scalars(select(Agent).where(Agent.username == "frank")).one()
            assert agent.role == "admin"
            assert authenticate(uow.agents, "frank", PASSWORD) is not None
    finally:
        engine.dispose()


async def test_login_sets_a_strict_httponly_cookie_and_logout_ends_the_session(settings: Settings, server: str) -> None:
    username, password = create_agent(settings)
    agent = AgentClient(server)
    try:
        async with agent.http.get("/agent", allow_redirects=False) as anonymous:
            assert (anonymous.status, anonymous.headers["Location"]) == (303, "/agent/login")
        async with agent.http.get("/agent/login") as page:
            token = hidden_csrf(await page.text())
        form = {"username": username, "password": password, "csrf_token": token}
        async with agent.http.post("/agent/login", data=form, allow_redirects=False) as response:
            assert response.status == 303
            cookie = response.cookies["sa_agent"]
            assert cookie["httponly"] and cookie["samesite"] == "Strict" and cookie["path"] == "/agent"
        async with agent.http.get("/agent") as console:
            agent.csrf = hidden_csrf(await console.text())
        assert (await agent.call("GET", "/queue"))[0] == 200

        async with agent.http.post("/agent/logout", data={}, allow_redirects=False) as refused:
            assert refused.status == 403  # no CSRF token: still signed in
        assert (await agent.call("GET", "/queue"))[0] == 200
        async with agent.http.post("/agent/logout", data={"csrf_token": agent.csrf}, allow_redirects=False) as out:
            assert (out.status, out.headers["Location"]) == (303, "/agent/login")
        assert (await agent.call("GET", "/queue"))[0] == 401
    finally:
        await agent.close()


async def test_wrong_password_and_missing_login_csrf_are_refused(settings: Settings, server: str) -> None:
    username, password = create_agent(settings)
    agent = AgentClient(server)
    try:
        async with agent.http.get("/agent/login") as page:
            token = hidden_csrf(await page.text())
        wrong = {"username": username, "password": password + "x", "csrf_token": token}
        async with agent.http.post("/agent/login", data=wrong, allow_redirects=False) as response:
            assert response.status == 401 and "Wrong username or password" in await response.text()
        no_csrf = {"username": username, "password": password}
        async with agent.http.post("/agent/login", data=no_csrf, allow_redirects=False) as response:
            assert response.status == 403 and "sa_agent" not in response.cookies
    finally:
        await agent.close()


async def test_api_refuses_no_session_no_csrf_and_foreign_origins(settings: Settings, server: str) -> None:
    async with aiohttp.ClientSession(server) as anonymous:
        for method, path in [("GET", "/agent/api/queue"), ("POST", "/agent/api/conversations/1/claim")]:
            async with anonymous.request(method, path) as response:
                assert response.status == 401
    username, password = create_agent(settings)
    agent = AgentClient(server)
    try:
        await agent.login(username, password)
        async with agent.http.post("/agent/api/conversations/1/claim") as response:
            assert response.status == 403 and "CSRF" in (await response.json())["error"]
        headers = {"X-CSRF-Token": agent.csrf, "Origin": "https://evil.example"}
        async with agent.http.post("/agent/api/conversations/1/claim", headers=headers) as response:
            assert response.status == 403
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await agent.http.ws_connect("/agent/ws", origin="https://evil.example")
        assert refused.value.status == 403
        async with agent.socket() as socket:  # our own origin is fine
            await socket.send_json({"type": "ping"})
            assert (await socket.receive_json())["type"] == "pong"
    finally:
        await agent.close()


async def test_console_page_escapes_and_sets_csp(settings: Settings, server: str) -> None:
    username, password = create_agent(settings)
    agent = AgentClient(server)
    try:
        await agent.login(username, password)
        async with agent.http.get("/agent") as page:
            assert "default-src 'self'" in page.headers["Content-Security-Policy"]
            assert page.headers["Cache-Control"] == "no-store"
    finally:
        await agent.close()


async def test_repeated_wrong_passwords_lock_the_username_for_a_while(settings: Settings, server: str) -> None:
    username, password = create_agent(settings)
    other, other_password = create_agent(settings)
    agent = AgentClient(server)
    try:
        async with agent.http.get("/agent/login") as page:
            token = hidden_csrf(await page.text())
        for attempt in range(MAX_FAILURES_PER_USERNAME + 1):
            guess = password if attempt == MAX_FAILURES_PER_USERNAME else f"guess-{attempt}"
            form = {"username": username, "password": guess, "csrf_token": token}
            async with agent.http.post("/agent/login", data=form, allow_redirects=False) as response:
                text = await response.text()
                token = hidden_csrf(text)
                if attempt < MAX_FAILURES_PER_USERNAME:
                    assert response.status == 401
                else:  # even the right password is not checked now
                    assert response.status == 429 and "Too many failed sign-ins" in text
                    assert "sa_agent" not in response.cookies
    finally:
        await agent.close()
    colleague = AgentClient(server)
    try:
        await colleague.login(other, other_password)  # another account from the same address still works
    finally:
        await colleague.close()


@pytest.fixture(params=["memory", "redis"])
async def make_throttle(request: pytest.FixtureRequest) -> AsyncIterator[Callable[[Callable[[], float]], Throttle]]:
    """The in-process throttle (demo) and the Redis one (production, skipped without Redis)."""
    made: list[Throttle] = []

    def make(clock: Callable[[], float]) -> Throttle:
        if request.param == "memory":
            made.append(LoginThrottle(clock=clock))
        else:
            made.append(RedisLoginThrottle(redis_test_url(), f"test:login:{secrets.token_hex(4)}:", clock=clock))
        return made[-1]

    if request.param == "redis":
        require("Redis")
    yield make
    for throttle in made:
        await throttle.close()


async def test_the_lock_lifts_after_the_window_and_a_success_clears_the_count(make_throttle: Any) -> None:
    now = [1000.0]
    throttle = make_throttle(lambda: now[0])
    for _ in range(MAX_FAILURES_PER_USERNAME):
        assert (await throttle.attempt("Dana", "10.0.0.1")).allowed
    refused = await throttle.attempt("dana", "10.0.0.2")  # by username, any address, any case
    assert refused.retry_after == WINDOW_SECONDS
    assert await throttle.failures(username="dana") == MAX_FAILURES_PER_USERNAME + 1  # refused attempts count too
    now[0] += WINDOW_SECONDS
    assert (await throttle.attempt("dana", "10.0.0.1")).allowed  # only the refused one is still in the window
    await throttle.succeeded(await throttle.attempt("dana", None))
    assert await throttle.failures(username="dana") == 0
    for _ in range(MAX_FAILURES_PER_USERNAME - 1):
        await throttle.attempt("dana", None)
    assert (await throttle.attempt("dana", None)).allowed
    for n in range(MAX_FAILURES_PER_ADDRESS):  # many usernames from one address
        await throttle.attempt(f"user{n}", "10.0.0.9")
    assert not (await throttle.attempt("someone-new", "10.0.0.9")).allowed


async def test_a_success_takes_back_only_its_own_attempt_on_the_address(make_throttle: Any) -> None:
    throttle = make_throttle(lambda: 5.0)
    await throttle.attempt("mallory", "10.0.0.7")
    await throttle.succeeded(await throttle.attempt("erin", "10.0.0.7"))
    assert await throttle.failures(address="10.0.0.7") == 1
    assert await throttle.failures(username="mallory") == 1


async def test_a_burst_of_parallel_wrong_passwords_records_every_failure_and_none_passes(settings: Settings) -> None:
    """50 guesses at once: all 50 are counted, and only the first few ever reach the password check."""
    username, password = create_agent(settings)
    app = create_app(settings)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    base = str(server.make_url("")).rstrip("/")
    try:
        async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as http:
            async with http.get(f"{base}/agent/login") as page:
                token, nonce = hidden_csrf(await page.text()), page.cookies["sa_agent_login"].value

            async def guess(n: int) -> int:
                form = {"username": username, "password": f"wrong-guess-{n}", "csrf_token": token}
                headers = {"Cookie": f"sa_agent_login={nonce}"}
                async with http.post(f"{base}/agent/login", data=form, headers=headers, allow_redirects=False) as answer:
                    return answer.status

            statuses = await asyncio.gather(*(guess(n) for n in range(50)))
            assert statuses.count(401) == MAX_FAILURES_PER_USERNAME  # checked, and wrong
            assert statuses.count(429) == 50 - MAX_FAILURES_PER_USERNAME  # refused without a check
            assert await app[LOGIN_THROTTLE].failures(username=username) == 50
            form = {"username": username, "password": password, "csrf_token": token}
            async with http.post(f"{base}/agent/login", data=form, headers={"Cookie": f"sa_agent_login={nonce}"},
                                 allow_redirects=False) as answer:
                assert answer.status == 429  # even the right password waits now
    finally:
        await server.close()
