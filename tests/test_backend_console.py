"""Agents see the requests the store has not taken yet; nobody else does."""

from __future__ import annotations

import aiohttp
from sqlalchemy import update

from assistant.backend.outbox import enqueue
from assistant.settings import Settings
from assistant.store.db import UnitOfWork, make_engine, make_session_factory
from assistant.store.models import BackendOutboxRow, utcnow
from tests.agent_console import AgentClient, create_agent, server, settings  # noqa: F401


def queue_requests(settings: Settings) -> None:  # noqa: F811
    engine = make_engine(settings.database_url)
    try:
        with UnitOfWork(make_session_factory(engine)) as uow:
            enqueue(uow, "cancellation_requested", {"order_number": "SA-9"}, order_id="SA-9", key="k-waiting")
            enqueue(uow, "return_requested", {"order_number": "<b>SA-8</b>"}, order_id="<b>SA-8</b>", key="k-refused")
            enqueue(uow, "cart_changed", {"items": []}, key="k-delivered")
            uow.session.execute(update(BackendOutboxRow).where(BackendOutboxRow.idempotency_key == "k-waiting")
                                .values(attempts=3, last_error="store backend answered 503: maintenance"))
            uow.session.execute(update(BackendOutboxRow).where(BackendOutboxRow.idempotency_key == "k-refused")
                                .values(attempts=1, failed_at=utcnow(), last_error="422 <script>x</script>"))
            uow.session.execute(update(BackendOutboxRow).where(BackendOutboxRow.idempotency_key == "k-delivered")
                                .values(delivered_at=utcnow()))
            uow.commit()
    finally:
        engine.dispose()


async def test_agents_see_waiting_and_refused_requests(server: str, settings: Settings) -> None:  # noqa: F811
    queue_requests(settings)
    agent = AgentClient(server)
    try:
        await agent.login(*create_agent(settings))
        status, data = await agent.call("GET", "/store-requests")
        assert status == 200
        assert [(r["key"], r["state"], r["attempts"]) for r in data["requests"]] == [
            ("k-waiting", "waiting", 3), ("k-refused", "refused", 1)]
        async with agent.http.get("/agent/store-requests") as response:
            page = await response.text()
        assert response.status == 200
        assert "1 waiting for the store, 1 refused by it." in page
        assert "store backend answered 503: maintenance" in page
        assert "<script>" not in page and "&lt;script&gt;x&lt;/script&gt;" in page
        assert "<b>SA-8</b>" not in page
    finally:
        await agent.close()


async def test_strangers_are_sent_to_the_login(server: str, settings: Settings) -> None:  # noqa: F811
    queue_requests(settings)
    async with aiohttp.ClientSession(server) as http:
        async with http.get("/agent/store-requests", allow_redirects=False) as response:
            assert response.status == 303 and response.headers["Location"] == "/agent/login"
        async with http.get("/agent/api/store-requests") as response:
            assert response.status == 401
