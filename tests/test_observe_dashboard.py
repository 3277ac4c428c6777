"""The admins' dashboard: who may see it, what it escapes (figures through the stack: tests/browser/test_observe_stack.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp.test_utils import TestServer

from assistant.observe.charts import bar_chart
from assistant.settings import Settings
from assistant.web.app import create_app
from tests.agent_console import AgentClient, create_agent
from tests.agent_console import settings as settings  # noqa: F401  (fixture)


@pytest.fixture
async def server(settings: Settings) -> AsyncIterator[str]:  # noqa: F811
    server = TestServer(create_app(settings), host="127.0.0.1")
    await server.start_server()
    yield str(server.make_url("")).rstrip("/")
    await server.close()


async def test_only_admins_see_the_dashboard(server: str, settings: Settings) -> None:  # noqa: F811
    agent, admin = AgentClient(server), AgentClient(server)
    try:
        async with agent.http.get("/agent/dashboard", allow_redirects=False) as response:
            assert response.status == 303 and response.headers["Location"] == "/agent/login"
        await agent.login(*create_agent(settings))
        async with agent.http.get("/agent/dashboard") as response:
            assert response.status == 403
            assert (await response.json())["error"] == "the dashboard is for admins"
        assert (await agent.call("GET", "/analytics"))[0] == 403
        await admin.login(*create_agent(settings, role="admin"))
        async with admin.http.get("/agent/dashboard", params={"since": "7d", "channel": "web"}) as response:
            assert response.status == 200
            page = await response.text()
        assert 'data-testid="value-conversations">0<' in page and "last 7 days, web" in page
        async with admin.http.get("/agent/dashboard", params={"since": "forever"}) as response:
            assert response.status == 400
        status, figures = await admin.call("GET", "/analytics?since=30d")
        assert status == 200 and figures["conversations"] == 0 and figures["definitions"]["containment_rate"]
    finally:
        await agent.close()
        await admin.close()


def test_charts_escape_what_shoppers_typed() -> None:
    svg = bar_chart("q", "Top searches", [('<script>alert("x")</script>', 2.0)], "how & why")
    assert "<script>" not in svg and "&lt;script&gt;" in svg and "how &amp; why" in svg
    assert 'role="img"' in svg
