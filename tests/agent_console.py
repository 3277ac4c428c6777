"""Test helpers for the agent console: accounts, a signed-in agent, a shopper in the widget's place.

Both clients speak plain HTTP/WebSocket to the web app exactly as the console page and the
widget do (cookies, CSRF header, the WebSocket auth frame), so the tests exercise the
real server paths.
"""

from __future__ import annotations

import asyncio
import re
import secrets
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from assistant.agents import add_agent
from assistant.settings import Settings
from assistant.store.db import UnitOfWork, make_engine, make_session_factory, migrate
from assistant.web.app import create_app
from assistant.web.sessions import SESSION_COOKIE, read_session, sender_for
from tests.test_web_gateway import web_settings

FRAME_TIMEOUT = 60.0


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """A migrated store and no Rasa behind the web app: the console's own paths don't need it."""
    settings = web_settings(tmp_path, "http://127.0.0.1:9")
    migrate(settings.database_url)
    return settings


@pytest.fixture
async def server(settings: Settings) -> AsyncIterator[str]:
    """The real web app on a free loopback port; yields its base URL."""
    server = TestServer(create_app(settings), host="127.0.0.1")
    await server.start_server()
    yield str(server.make_url("")).rstrip("/")
    await server.close()


def create_agent(settings: Settings, role: str = "agent", display_name: str = "Support") -> tuple[str, str]:
    """A new agent account in the store; returns (username, password)."""
    username, password = f"{role}-{secrets.token_hex(4)}", secrets.token_urlsafe(16)
    migrate(settings.database_url)
    engine = make_engine(settings.database_url)
    try:
        with UnitOfWork(make_session_factory(engine)) as uow:
            add_agent(uow.agents, username, password, role, display_name)
            uow.commit()
    finally:
        engine.dispose()
    return username, password


def hidden_csrf(page: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', page) or re.search(r'name="csrf-token" content="([^"]+)"', page)
    assert match, "the page has no CSRF token"
    return match.group(1)


async def next_frame(socket: aiohttp.ClientWebSocketResponse, matches: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    """The first JSON frame that ``matches`` (others are skipped)."""
    async with asyncio.timeout(FRAME_TIMEOUT):
        while True:
            frame = await socket.receive_json()
            if matches(frame):
                return frame


class AgentClient:
    """A signed-in agent: the console page's HTTP calls and its WebSocket."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.http = aiohttp.ClientSession(base_url, cookie_jar=aiohttp.CookieJar(unsafe=True))
        self.csrf = self.username = ""

    async def login(self, username: str, password: str) -> None:
        self.username = username
        async with self.http.get("/agent/login") as page:
            token = hidden_csrf(await page.text())
        form = {"username": username, "password": password, "csrf_token": token}
        async with self.http.post("/agent/login", data=form, allow_redirects=False) as response:
            assert response.status == 303, await response.text()
        async with self.http.get("/agent") as console:
            assert console.status == 200
            self.csrf = hidden_csrf(await console.text())

    async def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        headers = {"X-CSRF-Token": self.csrf}
        async with self.http.request(method, f"/agent/api{path}", json=body, headers=headers) as response:
            return response.status, await response.json()

    async def queue_item(self, sender: str) -> dict[str, Any]:
        status, data = await self.call("GET", "/queue")
        assert status == 200, data
        [item] = [item for item in data["queue"] if item["sender"] == sender]
        return item

    def socket(self) -> Any:
        return self.http.ws_connect("/agent/ws", origin=self.base_url)

    async def close(self) -> None:
        await self.http.close()


class ShopperClient:
    """A shopper in the widget's place: ``/api/chat``, ``/api/history`` and the stream."""

    def __init__(self, base_url: str) -> None:
        self.http = aiohttp.ClientSession(base_url, cookie_jar=aiohttp.CookieJar(unsafe=True))

    async def chat(self, message: str) -> dict[str, Any]:
        async with self.http.post("/api/chat", json={"message": message}) as response:
            assert response.status == 200, await response.text()
            return dict(await response.json())

    async def history(self, after: str | None = None) -> list[dict[str, Any]]:
        async with self.http.get("/api/history", params={"after": after} if after else None) as response:
            assert response.status == 200, await response.text()
            return list((await response.json())["history"])

    def sender(self, web_secret: str) -> str:
        """The Rasa sender id the web app derived from this shopper's session cookie."""
        cookie = next(c for c in self.http.cookie_jar if c.key == SESSION_COOKIE)
        session_id = read_session(cookie.value, web_secret)
        assert session_id is not None
        return sender_for(session_id, None, web_secret)

    async def stream(self) -> aiohttp.ClientWebSocketResponse:
        socket = await self.http.ws_connect("/api/chat/stream")
        await socket.send_json({"type": "auth"})
        return socket

    async def close(self) -> None:
        await self.http.close()
