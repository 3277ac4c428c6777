"""End-to-end follow-ups through the real Rasa server, action server and demo store (issue #9).

Every conversation is what a shopper types; assertions check the replies against the
demo catalog itself: the product in focus, the topic and the list shown must carry over.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from assistant.rasa_conversation import payloads, product_ids, texts
from assistant.store.models import HandoffRequest
from tests.test_conversations import conversation, query_store

pytestmark = pytest.mark.integration
FAREWELL = ("thanks for stopping by", "bye for now", "happy shopping")


def is_yoga(product: dict[str, Any]) -> bool:
    return "yoga" in " ".join([str(product.get("subcategory")), str(product.get("title")), *(product.get("tags") or [])]).lower()


def no_handoff(stack: dict[str, Any], sender: str) -> bool:
    return not query_store(stack["settings"], select(HandoffRequest).where(HandoffRequest.sender_id == sender))


def test_it_and_this_one_follow_the_product_in_focus(stack: dict[str, Any], sender: str, catalog: dict[str, dict[str, Any]]) -> None:
    chat = conversation(stack, sender)
    shown = product_ids(chat.say("yoga mats"))
    assert len(shown) >= 2 and all(is_yoga(catalog[pid]) for pid in shown)
    second = catalog[shown[1]]

    details = chat.say("tell me more about the second one")
    assert second["title"] in texts(details)
    answer = texts(chat.say("what colour is it?"))
    assert f"Colour: {second['color']}" in answer
    answer = texts(chat.say("how much is it"))
    assert f"${second['price']:,.2f}" in answer

    cart = payloads(chat.say("I would like to put it in my basket"), "cart")
    assert cart and [item["product_id"] for item in cart[-1]["items"]] == [second["id"]]


def test_attribute_questions_quote_the_catalog_or_say_it_does_not(stack: dict[str, Any], sender: str,
                                                                   catalog: dict[str, dict[str, Any]]) -> None:
    chat = conversation(stack, sender)
    shown = product_ids(chat.say("smartphones"))
    assert shown
    first = catalog[shown[0]]
    chat.say("tell me about the first one")
    specs = texts(chat.say("Can you give me some specifications"))
    assert first["title"] in specs and f"Rating: {first['rating']:.1f} out of 5" in specs
    unknown = texts(chat.say("is it safe for kids?"))
    assert "catalog doesn't say" in unknown.lower() or "\"" in unknown  # quoted from the product, or said plainly
    assert not any(word in unknown.lower() for word in FAREWELL)


def test_brands_follow_the_topic(stack: dict[str, Any], sender: str, catalog: dict[str, dict[str, Any]]) -> None:
    chat = conversation(stack, sender)
    assert product_ids(chat.say("tents"))
    reply = texts(chat.say("What brands might you suggest?"))
    assert reply.startswith("Brands among")
    tent_brands = {p["brand"] for p in catalog.values() if p.get("subcategory") == "tents"}
    listed = [part.split(" (")[0] for part in reply.split(": ", 1)[1].split(". Say")[0].split(", ")]
    assert listed and set(listed) <= tent_brands, listed


def test_compare_the_first_two_gives_a_table(stack: dict[str, Any], sender: str) -> None:
    chat = conversation(stack, sender)
    shown = product_ids(chat.say("headphones"))
    assert len(shown) >= 2
    reply = chat.say("compare the first two")
    [table] = payloads(reply, "comparison")
    assert [card["id"] for card in table["products"]] == shown[:2]
    assert {row["attribute"] for row in table["rows"]} >= {"Price", "Rating", "Brand"}
    assert texts(reply).startswith("Side by side:")


@pytest.mark.parametrize("reaction", ["i see", "oh i see", "Hmm, looks much better", "really?"])
def test_reactions_are_not_goodbyes_searches_or_handoffs(stack: dict[str, Any], sender: str, reaction: str) -> None:
    chat = conversation(stack, sender)
    assert product_ids(chat.say("running shoes"))
    reply = chat.say(reaction)
    said = texts(reply).lower()
    assert said and not any(word in said for word in FAREWELL), said
    assert not product_ids(reply), "a reaction started a new search"
    assert "didn't quite get that" not in said
    assert no_handoff(stack, sender)


def test_price_reactions_stay_in_the_topic(stack: dict[str, Any], sender: str, catalog: dict[str, dict[str, Any]]) -> None:
    chat = conversation(stack, sender)
    shown = product_ids(chat.say("smartphones under $900"))
    assert shown
    cheaper = product_ids(chat.say("that's too expensive"))
    most = sorted(catalog[pid]["price"] for pid in shown)[len(shown) // 2]
    assert cheaper and all(catalog[pid]["price"] < most for pid in cheaper)
    assert all(catalog[pid]["subcategory"] == "smartphones" for pid in cheaper)

    reply = chat.say("budget is not a problem")
    unlimited = product_ids(reply)
    assert unlimited and all(catalog[pid]["subcategory"] == "smartphones" for pid in unlimited)
    assert "under $" not in texts(reply)
    assert any(catalog[pid]["price"] > 900 for pid in unlimited), "the old cap still holds"


def test_gift_with_an_interest_and_a_budget(stack: dict[str, Any], sender: str, catalog: dict[str, dict[str, Any]]) -> None:
    chat = conversation(stack, sender)
    gifts = product_ids(chat.say("gift for my sister, she likes yoga"))
    assert gifts and sum(is_yoga(catalog[pid]) for pid in gifts) >= len(gifts) - 1, [catalog[p]["title"] for p in gifts]
    budget = product_ids(chat.say("something under 40 dollars"))
    assert budget and all(catalog[pid]["price"] < 40 for pid in budget)
    assert sum(is_yoga(catalog[pid]) for pid in budget) >= len(budget) - 1, [catalog[p]["title"] for p in budget]


def test_black_friday_is_not_a_colour_filter(stack: dict[str, Any], sender: str) -> None:
    chat = conversation(stack, sender)
    assert product_ids(chat.say("sneakers"))
    reply = chat.say("It's black friday")
    for payload in payloads(reply, "products"):
        assert "black" not in (payload.get("filters") or {}).get("colors", [])


def test_a_product_need_is_searched_never_handed_off(stack: dict[str, Any], sender: str, catalog: dict[str, dict[str, Any]]) -> None:
    chat = conversation(stack, sender)
    reply = chat.say("I need something with a good camera")
    shown = product_ids(reply)
    assert shown and any("camera" in str(catalog[pid].get("description")).lower() for pid in shown)
    assert no_handoff(stack, sender)


def test_misunderstanding_offers_choices_before_a_person(stack: dict[str, Any], sender: str) -> None:
    chat = conversation(stack, sender)
    first = chat.say("zzkx qwop blarg")
    assert "sorry" in texts(first).lower() and not product_ids(first)
    assert no_handoff(stack, sender)
