"""POST /api/events on the real app factory: storefront-key auth, validation, storage."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from actions.context import unit_of_work
from assistant.identity import sign_customer_token
from assistant.launcher import free_port
from assistant.settings import Settings
from assistant.store.models import Event
from assistant.web.app import create_app
from assistant.web.views_events import MAX_EVENTS
from tests.actions_harness import action_store  # noqa: F401

KEY = "storefront-key-for-tests"
AUTH = {"Authorization": f"Bearer {KEY}"}


@pytest.fixture
async def client(action_store: Settings) -> AsyncIterator[TestClient]:
    settings = dataclasses.replace(action_store, storefront_key=KEY, rasa_url=f"http://127.0.0.1:{free_port()}")
    client = TestClient(TestServer(create_app(settings)))
    await client.start_server()
    yield client
    await client.close()


def stored(**where: str) -> list[tuple[str, str | None, str | None, str | None]]:
    with unit_of_work() as uow:
        rows = uow.session.scalars(select(Event).filter_by(**where).order_by(Event.id))
        return [(e.type, e.product_id, e.query, e.session_id) for e in rows]


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": KEY}])
async def test_the_storefront_key_is_required(client: TestClient, headers: dict[str, str]) -> None:
    response = await client.post("/api/events", json={"type": "view", "customer_id": "ev1", "product_id": "B001"},
                                 headers=headers)
    assert response.status == 401
    assert (await response.json())["error"].startswith("a valid storefront key is required")
    assert stored(customer_id="ev1") == []


async def test_one_event_or_a_batch_is_stored_and_counted(client: TestClient, action_store: Settings) -> None:
    token = sign_customer_token("ev-token", action_store.store_secret)
    batch = [
        {"type": "view", "customer_id": "ev2", "product_id": "B001", "at": "2026-01-02T10:00:00Z"},
        {"type": "search", "customer_id": "ev2", "query": "  red boots  "},
        {"type": "add_to_cart", "customer_token": token, "product_id": "T007"},
        {"type": "order", "customer_id": "ev2", "product_id": "T007"},
        {"type": "remove_from_cart", "session_id": "store-session-1", "product_id": "T007"},
    ]
    response = await client.post("/api/events", json=batch, headers=AUTH)
    assert response.status == 200
    assert await response.json() == {
        "accepted": 5, "customers_created": 2,
        "by_type": {"view": 1, "search": 1, "add_to_cart": 1, "purchase": 1, "remove_from_cart": 1},
    }
    assert stored(customer_id="ev2") == [("view", "B001", None, None), ("search", None, "red boots", None),
                                         ("purchase", "T007", None, None)]
    assert stored(customer_id="ev-token") == [("add_to_cart", "T007", None, None)]
    assert stored(session_id="store-session-1") == [("remove_from_cart", "T007", None, "store-session-1")]

    single = await client.post("/api/events", json={"type": "view", "customer_id": "ev2", "product_id": "S001"}, headers=AUTH)
    assert (await single.json())["accepted"] == 1


BAD: list[tuple[Any, str]] = [
    ({"type": "click", "customer_id": "c", "product_id": "B001"}, "type must be one of"),
    ({"type": "view", "product_id": "B001"}, "exactly one of customer_id, customer_token or session_id"),
    ({"type": "view", "customer_id": "c", "session_id": "s", "product_id": "B001"}, "exactly one of"),
    ({"type": "view", "customer_id": "c"}, "a view event needs a product_id"),
    ({"type": "search", "customer_id": "c"}, "a search event needs its query text"),
    ({"type": "search", "customer_id": "c", "query": "x" * 501}, "query is longer than 500"),
    ({"type": "view", "customer_id": "c", "product_id": "B001", "at": "yesterday"}, "not an ISO 8601"),
    ({"type": "view", "customer_id": "c", "product_id": "B001", "at": "2999-01-01T00:00:00Z"}, "lies in the future"),
    ({"type": "view", "customer_id": "c d", "product_id": "B001"}, "customer_id must be 1-64"),
    ({"type": "view", "customer_token": "forged.token", "product_id": "B001"}, "customer_token is invalid"),
    ({"type": "view", "customer_id": "c", "product_id": "B001", "price": 3}, "unknown fields ['price']"),
    ("view", "each event must be a JSON object"),
]


@pytest.mark.parametrize(("event", "message"), BAD)
async def test_invalid_events_get_a_clear_400_and_nothing_is_stored(client: TestClient, event: Any, message: str) -> None:
    good = {"type": "view", "customer_id": "ev3", "product_id": "B001"}
    response = await client.post("/api/events", json=[good, event], headers=AUTH)
    body = await response.json()
    assert response.status == 400
    assert body["error"] == "1 of 2 events are invalid; nothing was stored"
    assert body["errors"][0]["index"] == 1 and message in body["errors"][0]["error"]
    assert stored(customer_id="ev3") == []


async def test_unknown_products_size_limits_and_bad_json(client: TestClient) -> None:
    response = await client.post("/api/events", json={"type": "view", "customer_id": "ev4", "product_id": "NOPE"}, headers=AUTH)
    assert response.status == 400 and (await response.json())["unknown_products"] == ["NOPE"]
    too_many = [{"type": "view", "customer_id": "ev4", "product_id": "B001"}] * (MAX_EVENTS + 1)
    response = await client.post("/api/events", json=too_many, headers=AUTH)
    assert response.status == 400 and "at most 500 events" in (await response.json())["error"]
    response = await client.post("/api/events", data="{not json", headers=AUTH)
    assert response.status == 400 and "must be JSON" in (await response.json())["error"]
    response = await client.post("/api/events", json=[], headers=AUTH)
    assert response.status == 400
    assert stored(customer_id="ev4") == []
