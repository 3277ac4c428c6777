"""``/api/search`` over a real (tiny) FAISS index with the real embedding model, held by the real action server.

The web app loads no index and no encoder (#15.7): it asks the action server, which these
tests start on the same store.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient

from assistant.launcher import free_port
from assistant.observe.unanswered import group_by_meaning
from assistant.settings import PROJECT_ROOT, Settings, default_embedding_model
from assistant.web.keys import SEARCH
from catalog_index.build import build_index
from catalog_index.importer import import_catalog
from tests.action_server import running_action_server
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


@pytest.fixture(scope="module")
def search_server(indexed_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The real action server on the indexed store: the one process holding its index (#15.7)."""
    settings = web_settings(indexed_store, "http://127.0.0.1:9", default_embedding_model())
    with running_action_server(settings, tmp_path_factory.mktemp("search-server") / "actions.log") as url:
        yield url


def searching_settings(data_dir: Path, rasa_url: str, action_server: str) -> Settings:
    """The web app's settings for ``data_dir``, with ``action_server``'s search."""
    return dataclasses.replace(web_settings(data_dir, rasa_url, default_embedding_model()), action_endpoint_url=f"{action_server}/webhook")


@pytest.fixture
async def client(indexed_store: Path, fake_rasa: tuple[FakeRasa, str], search_server: str) -> AsyncIterator[TestClient]:
    client = await gateway(searching_settings(indexed_store, fake_rasa[1], search_server))
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


async def test_the_dashboard_groups_unanswered_messages_with_the_action_servers_encoder(client: TestClient) -> None:
    """The dashboard's :data:`Embed` runs in a worker thread and asks the action server (#15.7)."""
    embed = client.app[SEARCH].encoder(asyncio.get_running_loop())
    texts = ["do you price match", "do you match prices", "where is the nearest store"]
    groups = await asyncio.to_thread(group_by_meaning, texts, embed)
    assert [group["count"] for group in groups] == [2, 1]


async def test_search_is_an_honest_503_while_the_action_server_is_down(tmp_path: Path, fake_rasa: tuple[FakeRasa, str]) -> None:
    client = await gateway(searching_settings(tmp_path, fake_rasa[1], f"http://127.0.0.1:{free_port()}"))
    try:
        vectors = await asyncio.to_thread(client.app[SEARCH].encoder(asyncio.get_running_loop()), ["a", "b"])
        assert vectors.tolist() == [[1.0, 0.0], [0.0, 1.0]]  # by exact wording: no two texts alike
        response = await client.get("/api/search", params={"q": "shoes"})
        assert response.status == 503
        body = await response.json()
        health = await (await client.get("/healthz")).json()
        ready = await client.get("/readyz")
        assert ready.status == 503 and "index" in (await ready.json())["not_ready"]
    finally:
        await client.close()
    assert "product search is unavailable" in body["error"] and "Traceback" not in json.dumps(body)
    assert health["search"] == "unavailable"


# Run in a process of its own: this test process loaded the encoder to build the index.
WEB_APP_ONLY = """
import asyncio, dataclasses, json, sys
from aiohttp.test_utils import TestClient, TestServer
from assistant.web.app import create_app
from tests.test_web_gateway import web_settings

async def main() -> None:
    settings = web_settings(sys.argv[1], sys.argv[2])
    client = TestClient(TestServer(create_app(dataclasses.replace(settings, action_endpoint_url=sys.argv[3] + "/webhook"))))
    await client.start_server()
    response = await client.get("/api/search", params={"q": "red running shoes"})
    hits = [hit["id"] for hit in (await response.json())["hits"]]
    await client.close()
    heavy = [name for name in ("onnxruntime", "faiss", "torch", "sentence_transformers", "catalog_index.search") if name in sys.modules]
    print(json.dumps({"status": response.status, "hits": hits, "heavy": heavy}))

asyncio.run(main())
"""


def test_the_web_app_searches_without_loading_the_encoder_or_the_index(indexed_store: Path, search_server: str) -> None:
    """One copy of the embedding model per stack (#15.7): the web app process never imports it, even while searching."""
    run = subprocess.run(
        [sys.executable, "-c", WEB_APP_ONLY, str(indexed_store), "http://127.0.0.1:9", search_server],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300, check=False,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    answer = json.loads(run.stdout.strip().splitlines()[-1])
    assert answer["status"] == 200 and answer["hits"][0] == "P1"
    assert answer["heavy"] == []
