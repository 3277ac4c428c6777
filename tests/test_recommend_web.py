"""``GET /api/search`` personalized with a customer token: consent respected, bad tokens refused, exact matches kept."""

from __future__ import annotations

from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient

from assistant.identity import sign_customer_token
from assistant.store.db import make_engine, make_session_factory, migrate
from assistant.store.models import Customer, Order, OrderItem, utcnow
from assistant.store.repositories.products import ProductRepository
from tests.test_web_gateway import STORE_SECRET, fake_rasa
from tests.test_web_search import client, indexed_store, search_server

__all__ = ["client", "fake_rasa", "indexed_store", "search_server"]  # fixtures, imported for use here (the store is seeded first)


@pytest.fixture(scope="module", autouse=True)
def personal_store(indexed_store: Path) -> Path:
    """The search store plus a customer store: "fan" (said yes) bought Adidas and running shoes, "shy" never answered."""
    url = f"sqlite:///{indexed_store / 'customers.db'}"
    migrate(url)
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as session:
            ProductRepository(session).mirror_catalog(indexed_store / "catalog.jsonl")
            for customer_id, consent in (("fan", True), ("shy", None)):
                session.add(Customer(id=customer_id, personalization_consent=consent))
                session.add(Order(order_number=f"W-{customer_id}", customer_id=customer_id, status="delivered",
                                  placed_at=utcnow(), total=59.0, items=[OrderItem(product_id="P3", quantity=1, unit_price=59.0)]))
            session.commit()
    finally:
        engine.dispose()
    return indexed_store


async def _ids(client: TestClient, query: str, customer: str | None = None) -> list[str]:
    headers = {"Authorization": f"Bearer {sign_customer_token(customer, STORE_SECRET, 600)}"} if customer else {}
    response = await client.get("/api/search", params={"q": query, "k": "6"}, headers=headers)
    assert response.status == 200, await response.text()
    return [hit["id"] for hit in (await response.json())["hits"]]


async def test_a_forged_customer_token_is_refused(client: TestClient) -> None:
    response = await client.get("/api/search", params={"q": "shoes"}, headers={"Authorization": "Bearer forged.token"})
    assert response.status == 401
    assert "customer token" in (await response.json())["error"]


async def test_personal_order_keeps_the_results_and_the_exact_match(client: TestClient) -> None:
    anonymous = await _ids(client, "shoes")
    assert await _ids(client, "shoes", "shy") == anonymous  # never asked: the unpersonalized order
    personal = await _ids(client, "shoes", "fan")
    assert sorted(personal) == sorted(anonymous)
    assert (await _ids(client, "Red running shoes deluxe", "fan"))[0] == "P2"
