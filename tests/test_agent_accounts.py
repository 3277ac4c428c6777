"""Agent accounts and console sessions (issue #12, item 8).

The web app runs for real on a loopback port with its SQLite store; the CLI is called as
an operator would. Checked: a console WebSocket closes on logout and when the account is
disabled; sessions end after idling; disable/enable/remove/reset-password take effect at
once; an agent's queue holds only unclaimed conversations and their own (admins: all);
shoppers are shown the display name, never the login name.
"""

from __future__ import annotations

import asyncio
import io
import sys
from datetime import UTC, datetime

import aiohttp
import pytest

from assistant.cli import main
from assistant.settings import Settings
from assistant.store.db import UnitOfWork, make_engine, make_session_factory
from assistant.web.console.auth import IDLE_SECONDS, AgentSessions
from assistant.web.console.session_store import MemorySessionStore
from assistant.web.live.frames import handoff_state
from assistant.web.live.handoffs import Handoff
from assistant.web.live.hub import AgentIdentity
from tests.agent_console import AgentClient, create_agent, server, settings

NEW_PASSWORD = "a brand new passphrase"



def cli(settings: Settings, monkeypatch: pytest.MonkeyPatch, *argv: str, stdin: str = "") -> int:
    monkeypatch.setenv("SHOP_DATABASE_URL", settings.database_url)
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    return main(["--data-dir", str(settings.data_dir), "agents", *argv])


def store(settings: Settings) -> UnitOfWork:
    return UnitOfWork(make_session_factory(make_engine(settings.database_url)))


async def closed(socket: aiohttp.ClientWebSocketResponse) -> int | None:
    """Wait for the server to close the socket; its close code."""
    async with asyncio.timeout(30):
        while (await socket.receive()).type not in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED):
            pass
    return socket.close_code


async def test_logout_closes_the_console_websocket(settings: Settings, server: str) -> None:
    agent = AgentClient(server)
    try:
        await agent.login(*create_agent(settings))
        async with agent.socket() as socket:
            async with agent.http.post("/agent/logout", data={"csrf_token": agent.csrf}, allow_redirects=False) as answer:
                assert answer.status == 303
            assert await closed(socket) == 4401
        assert (await agent.call("GET", "/queue"))[0] == 401
    finally:
        await agent.close()


async def test_disabling_an_account_ends_its_session_and_socket_at_once(
    settings: Settings, server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    username, password = create_agent(settings)
    agent = AgentClient(server)
    try:
        await agent.login(username, password)
        async with agent.socket() as socket:
            assert cli(settings, monkeypatch, "disable", username) == 0
            assert (await agent.call("GET", "/queue"))[0] == 401
            assert await closed(socket) == 4401
    finally:
        await agent.close()
    refused = AgentClient(server)
    try:
        with pytest.raises(AssertionError):
            await refused.login(username, password)  # a disabled account cannot sign in
        assert cli(settings, monkeypatch, "enable", username) == 0
        await refused.login(username, password)
    finally:
        await refused.close()


async def test_reset_password_ends_sessions_and_only_the_new_password_works(
    settings: Settings, server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    username, password = create_agent(settings)
    agent = AgentClient(server)
    try:
        await agent.login(username, password)
        assert cli(settings, monkeypatch, "reset-password", username, "--password-stdin", stdin=NEW_PASSWORD + "\n") == 0
        assert (await agent.call("GET", "/queue"))[0] == 401
    finally:
        await agent.close()
    with pytest.raises(AssertionError):
        fresh = AgentClient(server)
        try:
            await fresh.login(username, password)
        finally:
            await fresh.close()
    fresh = AgentClient(server)
    try:
        await fresh.login(username, NEW_PASSWORD)
    finally:
        await fresh.close()
    assert cli(settings, monkeypatch, "disable", "nobody-such") == 1


async def test_queue_shows_an_agent_unclaimed_and_own_conversations_and_an_admin_all(
    settings: Settings, server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    ann, ann_password = create_agent(settings)
    bob, _ = create_agent(settings)
    admin, admin_password = create_agent(settings, role="admin")
    with store(settings) as uow:
        agents = uow.agents
        ids = {name: agents.by_username(name).id for name in (ann, bob)}
        waiting = uow.handoffs.create("shopper-waiting", "rest").id
        anns = uow.handoffs.create("shopper-ann", "rest").id
        bobs = uow.handoffs.create("shopper-bob", "rest").id
        uow.commit()
        assert uow.handoffs.claim(anns, ids[ann]) and uow.handoffs.claim(bobs, ids[bob])
        uow.commit()
    seen = {}
    for name, password in ((ann, ann_password), (admin, admin_password)):
        client = AgentClient(server)
        try:
            await client.login(name, password)
            status, data = await client.call("GET", "/queue")
            assert status == 200
            seen[name] = {item["id"] for item in data["queue"]}
            if name == ann:
                assert (await client.call("GET", f"/conversations/{bobs}"))[0] == 403
        finally:
            await client.close()
    assert seen[ann] == {waiting, anns}
    assert seen[admin] == {waiting, anns, bobs}

    assert cli(settings, monkeypatch, "remove", bob) == 0  # bob's conversation goes back to the queue
    with store(settings) as uow:
        assert uow.handoffs.get(bobs).status == "waiting" and uow.handoffs.get(bobs).claimed_by is None
        assert uow.agents.by_username(bob) is None


async def test_idle_and_expired_sessions_end() -> None:
    now = [1000.0]
    sessions = AgentSessions(MemorySessionStore(), clock=lambda: now[0])
    token, session = await sessions.start(AgentIdentity(1, "ann", "agent", "Ann"))
    assert session.csrf_token not in repr(sessions) and token not in repr(sessions)  # no secret in a repr
    now[0] += IDLE_SECONDS - 1
    assert await sessions.get(token) is not None  # activity resets the idle clock
    now[0] += IDLE_SECONDS - 1
    assert await sessions.get(token) is not None
    other, _ = await sessions.start(AgentIdentity(2, "bob", "agent"))
    now[0] += IDLE_SECONDS + 1
    assert await sessions.get(token) is None

    async def valid(_: object) -> bool:
        return True

    assert await sessions.sweep(valid) == 1  # bob's, idle too
    assert await sessions.get(other) is None


def test_shoppers_see_the_display_name_never_the_login_name(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    now = datetime.now(UTC)
    held = Handoff(1, "s", "rest", "active", None, None, now, 7, "sam.login", "Sam", now, False, None)
    assert handoff_state(held) == {"type": "handoff", "state": "agent_joined", "agent_name": "Sam"}
    assert cli(settings, monkeypatch, "add", "dana.login", "--display-name", "Dana", "--password-stdin",
               stdin=NEW_PASSWORD + "\n") == 0
    with store(settings) as uow:
        assert uow.agents.by_username("dana.login").display_name == "Dana"
