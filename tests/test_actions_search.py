"""action_search_products, action_show_more, action_product_details on the real small index."""

from __future__ import annotations

import dataclasses

import pytest

from actions.base import SEARCH_DOWN
from actions.context import use_settings
from actions.search import ActionProductDetails, ActionSearchProducts, ActionShowMore
from assistant.settings import Settings
from tests.actions_harness import action_store, payloads, run, slots, texts, tracker  # noqa: F401

HIKING_UNDER_150 = {"B001", "B002", "B004", "B005"}  # catalog_small: hiking boots priced <= 150


async def test_new_search_reads_price_from_text_and_resets_old_constraints(action_store: Settings) -> None:
    events, messages = await run(ActionSearchProducts(), tracker("search_new"))

    state = slots(events)
    assert {name: state[name] for name in ("product_type", "color", "brand", "size", "price_min", "price_max")} == {
        "product_type": None, "color": None, "brand": None, "size": None, "price_min": None, "price_max": 150.0,
    }
    assert state["search_query"] == "waterproof hiking boots under $150"
    assert state["search_page"] == 0.0
    assert set(state["last_results"]) == HIKING_UNDER_150
    [payload] = payloads(messages, "products")
    assert [card["id"] for card in payload["products"]] == state["last_results"]
    assert payload["total_matching"] == 4 and payload["page"] == 0
    assert set(payload["products"][0]) == {"id", "title", "price", "currency", "image_url", "rating", "in_stock"}
    assert {card["id"]: card["in_stock"] for card in payload["products"]}["B005"] is False
    assert "That's all I have for this search." in texts(messages)


async def test_nothing_matches_relaxes_the_colour_and_says_so(action_store: Settings) -> None:
    events, messages = await run(
        ActionSearchProducts(), tracker("search_new", text="yellow waterproof hiking boots under $150")
    )
    assert slots(events)["color"] is None
    assert set(slots(events)["last_results"]) == HIKING_UNDER_150
    assert texts(messages).startswith("I found nothing that matched everything, so I left out the colour (yellow).")


async def test_refine_cheaper_keeps_the_search_and_goes_below_the_median(action_store: Settings) -> None:
    # shown: B001 129.99, B002 149.0, B005 139.0, B004 99.5 -> median 134.495, minus a cent
    events, messages = await run(ActionSearchProducts(), tracker("search_refine"))
    state = slots(events)
    assert state["search_query"] == "waterproof hiking boots under $150"
    assert state["price_max"] == 134.49
    assert set(state["last_results"]) == {"B001", "B004"}


async def test_refine_in_a_colour_adds_the_filter(action_store: Settings) -> None:
    events, _ = await run(ActionSearchProducts(), tracker("search_refine", text="in grey"))
    assert slots(events)["color"] == "grey" and slots(events)["price_max"] == 150.0
    assert slots(events)["last_results"] == ["B002"]


async def test_show_more_pages_without_repeats_and_says_when_done(action_store: Settings) -> None:
    first, messages = await run(ActionSearchProducts(), tracker("search_new", text="camping gear"))
    total = payloads(messages, "products")[0]["total_matching"]
    state = slots(first)
    seen = list(state["last_results"])
    while True:
        more, messages = await run(ActionShowMore(), tracker("search_new", text="show more", intent="show_more", slots=state))
        if not more:
            assert texts(messages).startswith("That's everything I have for \"camping gear\"")
            break
        assert slots(more)["search_page"] == state["search_page"] + 1
        assert not set(slots(more)["last_results"]) & set(seen)
        seen += slots(more)["last_results"]
        state.update(slots(more))
    assert len(seen) == total > 5


async def test_product_details_resolves_the_ordinal(action_store: Settings) -> None:
    events, messages = await run(ActionProductDetails(), tracker("product_details"))
    assert events == [{"event": "slot", "timestamp": None, "name": "selected_product", "value": "S002"}]
    text = texts(messages)
    assert text.startswith("Velocity Running Shoes: $79.99 by Swiftfoot")
    assert "Stock: online 14" in text
    assert [card["id"] for card in payloads(messages, "products")[0]["products"]] == ["S002"]


@pytest.mark.parametrize("words, expected", [("the last one", "S005"), ("the blue one", "S002"), ("show me the first", "S001")])
async def test_product_details_without_entity(action_store: Settings, words: str, expected: str) -> None:
    events, _ = await run(ActionProductDetails(), tracker("product_details", text=words, entities=[]))
    assert slots(events) == {"selected_product": expected}


async def test_missing_index_gets_an_honest_answer(action_store: Settings, tmp_path) -> None:
    use_settings(dataclasses.replace(action_store, data_dir=tmp_path))
    try:
        events, messages = await run(ActionSearchProducts(), tracker("search_new"))
    finally:
        use_settings(action_store)
    assert events == []
    assert [message["text"] for message in messages] == [SEARCH_DOWN]
