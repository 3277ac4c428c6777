"""Recommendations: co-purchase and similarity for a consenting customer, popularity otherwise."""

from __future__ import annotations

from actions.recommend import ActionRecommend
from assistant.settings import Settings
from tests.actions_harness import action_store, payloads, run, slots, tracker  # noqa: F401

ALICE_BOUGHT = {"B001", "S001", "T001", "H002"}


async def test_personal_for_alice_starts_with_what_others_bought_with_her_boots(action_store: Settings) -> None:
    events, messages = await run(ActionRecommend(), tracker("cart", "alice", action_store, text="what should I get?", intent="recommend", entities=[]))
    [payload] = payloads(messages, "products")
    cards = payload["products"]
    assert cards[0]["id"] == "T007"
    assert cards[0]["reason"] == "2 shoppers who bought the Summit Pro Waterproof Hiking Boots also bought this"
    assert len(cards) == 5 and not ALICE_BOUGHT & {card["id"] for card in cards}
    assert all(card["in_stock"] for card in cards)
    assert any(card["reason"].startswith("Similar to the ") for card in cards)
    assert slots(events)["last_results"] == [card["id"] for card in cards]


async def test_refusal_or_anonymity_gives_popular_items(action_store: Settings) -> None:
    for who in ("carol", None):
        _, messages = await run(ActionRecommend(), tracker("cart", who, action_store, text="recommend something", intent="recommend", entities=[]))
        cards = payloads(messages, "products")[0]["products"]
        assert messages[0]["text"].startswith("Some of our most popular products:")
        assert all(card["reason"].startswith("Popular: bought by ") for card in cards)
    assert cards[0] == {**cards[0], "id": "B001", "reason": "Popular: bought by 3 shoppers"}  # alice, bob, carol


async def test_gift_under_a_price_respects_it(action_store: Settings) -> None:
    _, messages = await run(ActionRecommend(), tracker("cart", "alice", action_store, text="a gift under $50", intent="recommend", entities=[]))
    cards = payloads(messages, "products")[0]["products"]
    assert cards and all(card["price"] <= 50 for card in cards)
