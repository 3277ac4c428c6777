"""``/api/search`` over a real (tiny) FAISS index with the real embedding model."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient

from assistant.settings import default_embedding_model
from catalog_index.build import build_index
from catalog_index.importer import import_catalog
from tests.test_web_gateway import FakeRasa, fake_rasa, gateway, web_settings

__all__ = ["fake_rasa"]  # the fixture, imported for use here

PRODUCTS = [
    {"id": "P1", "title": "Red running shoes", "category": "shoes",
     "subcategory": "running shoes", "color": "red", "price": 69.0, "brand": "Nike"},
    {"id": "P2", "title": "Red running shoes deluxe", "category": "shoes",
     "subcategory": "running shoes", "color": "red", "price": 149.0, "brand": "Nike"},
    {"id": "P3", "title": "Blue running shoes", "category": "shoes",
     "subcategory": "running shoes", "color": "blue", "price": 59.0, "brand": "Adidas"},
    {"id": "P4", "title": "Wool winter scarf", "category": "accessories",
     "subcategory": "scarves", "color": "grey", "price": 25.0, "brand": "Acme"},
    {"id": "P5", "title": "Leather hiking boots", "category": "shoes",
     "subcategory": "boots", "color": "brown", "price": 120.0, "brand": "Acme"},
    {"id": "P6", "title": "Cotton t-shirt", "category": "clothing",
     "subcategory": "t-shirts", "color": "white", "price": 15.0, "brand": "Acme"},
]


@pytest.fixture(scope="module")
def indexed_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store directory with a catalog and a FAISS index built by the real pipeline."""
    data_dir = tmp_path_factory.mktemp("web-search-store")
    source = data_dir / "source.jsonl"
    source.write_text("".join(json.dumps(product) + "\n" for product in PRODUCTS))
    import_catalog(source, data_dir / "catalog.jsonl")
    build_index(data_dir / "catalog.jsonl", data_dir / "index", default_embedding_model(), progress=False)
    return data_dir


@pytest.fixture
async def client(indexed_store: Path, fake_rasa: tuple[FakeRasa, str]) -> AsyncIterator[TestClient]:
    client = await gateway(web_settings(indexed_store, fake_rasa[1], default_embedding_model()))
    yield client
    await client.close()


async def test_search_applies_parsed_filters(client: TestClient) -> None:
    response = await client.get("/api/search", params={"q": "red running shoes under $80", "k": "3"})
    assert response.status == 200
    payload = await response.json()
    assert payload["query"] == "red running shoes under $80"
    ids = [hit["id"] for hit in payload["hits"]]
    assert ids[0] == "P1"
    assert "P2" not in ids  # over the price bound
    health = await (await client.get("/healthz")).json()
    assert health["search"] == "ready"
    assert all(hit["price"] <= 80 for hit in payload["hits"])
    assert payload["applied_filters"]


async def test_search_pages_with_offset(client: TestClient) -> None:
    first = await (await client.get("/api/search", params={"q": "shoes", "k": "2"})).json()
    second = await (await client.get("/api/search", params={"q": "shoes", "k": "2", "offset": "2"})).json()
    assert second["offset"] == 2
    assert not {hit["id"] for hit in first["hits"]} & {hit["id"] for hit in second["hits"]}
