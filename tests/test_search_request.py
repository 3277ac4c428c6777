"""One search request (#16.4): the same words find the same products in chat, on ``/api/search`` and in the CLI.

All three run on the real demo store's index: chat through the real search action (and
"show more" for the second page), the REST API through the real web app, the CLI through
``shop-assistant catalog search --json``.  Each builds its request with
``SearchRequest.parse`` and searches it with ``CatalogSearcher.run``; this pins that they agree.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from actions import context
from actions.constraints import Constraints
from actions.search import PAGE_SIZE, ActionSearchProducts, ActionShowMore, constraints_for
from assistant.cli import main
from assistant.settings import Settings
from catalog_index.request import SearchRequest
from catalog_index.search import CatalogSearcher
from tests.action_server import running_action_server
from tests.actions_harness import run, slots, tracker
from tests.test_web_gateway import FakeRasa, fake_rasa, gateway, web_settings

__all__ = ["fake_rasa"]  # the fixture, imported for use here

# Price bounds, colours (one or two), a brand, a size, a range and a "cheap" preference, on the demo catalog.
QUERIES = [
    "red running shoes under $80",
    "black hiking boots between $100 and $200",
    "cheap headphones",
    "blue rain jacket under 150",
    "grey hoodie in size M",
    "Goodmark coffee maker over $50",
    "white sneakers size 9 under 100",
    "red or blue t-shirts under 40",  # two colours: chat used to keep only the first
    "black or white sneakers",
]
# What NLU would tag in some of them: entities that agree with the words change nothing.
ENTITIES = {
    "red running shoes under $80": [{"entity": "color", "value": "red"}, {"entity": "product_type", "value": "running shoes"},
                                    {"entity": "price_max", "value": "80"}],
    "grey hoodie in size M": [{"entity": "color", "value": "grey"}, {"entity": "size", "value": "M"}],
}


@pytest.fixture(scope="module")
def demo_actions(demo_settings: Settings) -> Iterator[Settings]:
    """The action server's resources on the demo store for this module, the previous store's afterwards."""
    previous = context.settings()
    context.use_settings(demo_settings)
    yield demo_settings
    context.use_settings(previous)


def rest_settings(demo_settings: Settings, rasa_url: str) -> Settings:
    """The web app's settings on the demo store and its customer database."""
    return replace(web_settings(demo_settings.data_dir, rasa_url, demo_settings.embedding_model), database_url=demo_settings.database_url)


@pytest.fixture(scope="module")
def search_server(demo_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The real action server on the demo store: the web app's search is its (#15.7)."""
    log_path = tmp_path_factory.mktemp("actions") / "actions.log"
    with running_action_server(rest_settings(demo_settings, "http://127.0.0.1:9"), log_path) as url:
        yield url


@pytest.fixture
async def rest(demo_settings: Settings, fake_rasa: tuple[FakeRasa, str], search_server: str) -> AsyncIterator[TestClient]:
    """The real web app on the demo store and its customer database, searching through the real action server."""
    client = await gateway(replace(rest_settings(demo_settings, fake_rasa[1]), action_endpoint_url=f"{search_server}/webhook"))
    yield client
    await client.close()


def shopper(text: str, **changes: Any) -> Any:
    """A shopper's tracker with ``text`` as a new search (no earlier search in its slots)."""
    empty = {name: None for name in ("product_type", "color", "brand", "size", "price_min", "price_max", "search_query")}
    return tracker("search_new", text=text, entities=ENTITIES.get(text, []), slots={**empty, **changes.pop("slots", {})}, **changes)


async def rest_ids(client: TestClient, text: str, k: int, offset: int = 0) -> list[str]:
    response = await client.get("/api/search", params={"q": text, "k": str(k), "offset": str(offset)})
    assert response.status == 200, await response.text()
    return [hit["id"] for hit in (await response.json())["hits"]]


def cli_ids(settings: Settings, text: str, k: int, capsys: pytest.CaptureFixture[str]) -> list[str]:
    capsys.readouterr()
    assert main(["--data-dir", str(settings.data_dir), "catalog", "search", text, "--k", str(k), "--json"]) == 0
    return [hit["id"] for hit in json.loads(capsys.readouterr().out)["hits"]]


async def test_chat_rest_and_cli_find_the_same_products(
    demo_actions: Settings, rest: TestClient, capsys: pytest.CaptureFixture[str]
) -> None:
    for text in QUERIES:
        first, _ = await run(ActionSearchProducts(), shopper(text))
        state = slots(first)
        chat = list(state["last_results"])
        assert chat, text  # found without relaxing anything
        assert chat == await rest_ids(rest, text, PAGE_SIZE) == cli_ids(demo_actions, text, PAGE_SIZE, capsys), text
        more, _ = await run(ActionShowMore(), shopper("show more", intent="show_more", slots=state))
        assert slots(more).get("last_results", []) == await rest_ids(rest, text, PAGE_SIZE, offset=PAGE_SIZE), text


def test_a_chat_search_is_what_its_slots_restore(demo_actions: Settings) -> None:
    index: CatalogSearcher = context.searcher()
    for text in QUERIES:
        constraints, _, continued = constraints_for(shopper(text), index, [])
        assert not continued and constraints.request == replace(SearchRequest.parse(text, index.vocabulary), k=constraints.request.k)
        kept = {event["name"]: event["value"] for event in constraints.slot_events()}
        restored = Constraints.from_slots(shopper("show more", slots=kept), index.vocabulary)
        assert index.run(restored.request.page(20)).hits == index.run(constraints.request.page(20)).hits, text
