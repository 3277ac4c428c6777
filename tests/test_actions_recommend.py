"""Recommendations in chat: personal only after a yes, popular otherwise, gifts within a budget; personal search order."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from actions.context import searcher
from actions.recommend import ActionRecommend, gift_request
from actions.search import ActionSearchProducts
from assistant.settings import Settings
from assistant.store.db import make_engine, make_session_factory
from assistant.store.models import Customer, Order, OrderItem, utcnow
from tests.actions_harness import action_store, payloads, run, slots, tracker  # noqa: F401

DANA_BOUGHT = {"B001", "J004"}


@pytest.fixture(scope="module")
def dana(action_store: Settings) -> str:  # noqa: F811
    """A customer who said yes to personalization and bought the hiking boots and a fleece."""
    engine = make_engine(action_store.database_url)
    try:
        with make_session_factory(engine)() as session:
            session.add(Customer(id="rec-dana", email="dana@example.com", personalization_consent=True))
            for n, pid in enumerate(sorted(DANA_BOUGHT)):
                session.add(Order(order_number=f"SA-REC-{n}", customer_id="rec-dana", status="delivered",
                                  placed_at=utcnow() - timedelta(days=20 + n), total=50.0, currency="USD",
                                  items=[OrderItem(product_id=pid, quantity=1, unit_price=50.0)]))
            session.commit()
    finally:
        engine.dispose()
    return "rec-dana"


async def test_a_consenting_customer_gets_personal_picks_with_true_reasons(action_store: Settings, dana: str) -> None:  # noqa: F811
    asked = tracker("cart", dana, action_store, text="what should I get?", intent="recommend", entities=[])
    _, messages = await run(ActionRecommend(), asked)
    assert messages[0]["text"].startswith("Based on what you've bought and looked at, you might like:")
    cards = payloads(messages, "products")[0]["products"]
    assert len(cards) == 5 and not DANA_BOUGHT & {card["id"] for card in cards}
    assert all(card["in_stock"] for card in cards)
    bought = [searcher().get(pid) for pid in sorted(DANA_BOUGHT)]
    titles = {product["title"] for product in bought}
    places = {product[key] for product in bought for key in ("category", "subcategory")}
    brands = {product["brand"] for product in bought}
    personal = 0
    for reason in (card["reason"] for card in cards):
        named = re.search(r"(?:bought|looked at) the (.+?)(?: you bought| in your cart)?$", reason)
        shops = re.search(r"^Popular in (.+?), (?:which you shop often|from (.+), a brand you like)$", reason)
        if named:
            assert named.group(1) in titles, reason
        elif shops:
            assert shops.group(1) in places and (shops.group(2) is None or shops.group(2) in brands), reason
        else:
            assert reason.startswith(("A best seller in ", "Popular in ")), reason
            continue
        personal += 1
    assert personal >= 2


async def test_no_answer_yet_refusal_or_anonymity_gives_popular_items(action_store: Settings) -> None:  # noqa: F811
    seen = []
    for who in ("alice", "carol", None):  # alice was never asked, carol said no
        asked = tracker("cart", who, action_store, text="recommend something", intent="recommend", entities=[])
        _, messages = await run(ActionRecommend(), asked)
        cards = payloads(messages, "products")[0]["products"]
        assert messages[0]["text"].startswith("Some of our most popular products:")
        assert all(card["reason"].startswith(("A best seller in ", "Popular in ")) for card in cards)
        seen.append([card["id"] for card in cards])
    assert seen[0] == seen[1] == seen[2]
    assert "B001" in seen[0]  # the boots most shoppers bought


async def test_a_gift_for_dad_respects_the_budget(action_store: Settings, dana: str) -> None:  # noqa: F811
    asked = tracker("cart", dana, action_store, text="a gift for my dad under $50", intent="recommend", entities=[])
    _, messages = await run(ActionRecommend(), asked)
    assert messages[0]["text"].startswith("Some popular gift ideas for your dad under $50:")
    cards = payloads(messages, "products")[0]["products"]
    assert cards and all(card["price"] <= 50 for card in cards)


@pytest.mark.parametrize(("text", "gift", "recipient"), [
    ("a gift for my dad under $50", True, "dad"),
    ("something for my sister", True, "sister"),
    ("any present ideas?", True, None),
    ("something for the kitchen", False, None),
    ("recommend me something", False, None),
])
def test_gift_requests_are_read_from_the_words(text: str, gift: bool, recipient: str | None) -> None:
    request = gift_request(text, None)
    assert (request.gift, request.recipient) == (gift, recipient)


async def test_search_for_a_consenting_customer_reorders_only_the_page_and_keeps_exact_matches(
    action_store: Settings, dana: str,  # noqa: F811
) -> None:
    pages = {}
    for who in (None, dana):
        events, _ = await run(ActionSearchProducts(), tracker("search_new", who, action_store, sender_id=f"rec-search-{who}"))
        pages[who] = slots(events)["last_results"]
    assert sorted(pages[dana]) == sorted(pages[None]) and pages[None]
    exact = "Ridgeline Waterproof Hiking Boots"
    events, _ = await run(ActionSearchProducts(), tracker("search_new", dana, action_store, text=exact, sender_id="rec-search-exact"))
    assert slots(events)["last_results"][0] == "B002"


async def test_more_like_a_shown_product_is_one_turn(action_store: Settings) -> None:  # noqa: F811
    """The widget's "More like this" sends ``/recommend{"ordinal": "2"}``: similar to the second shown product."""
    shown = ["B001", "J004", "T007"]
    entities = [{"entity": "ordinal", "value": "2"}]
    _, messages = await run(ActionRecommend(), tracker(
        "cart", None, action_store, slots={"last_results": shown}, text='/recommend{"ordinal":"2"}', intent="recommend", entities=entities,
    ))
    second = searcher().get("J004")
    assert messages[0]["text"].startswith(f"Here are some products like the {second['title']}:")
    cards = payloads(messages, "products")[0]["products"]
    assert cards and "J004" not in [card["id"] for card in cards]
    # A plain "recommend me one" is not mistaken for "like the first one".
    _, plain = await run(ActionRecommend(), tracker(
        "cart", None, action_store, slots={"last_results": shown}, text="recommend me one thing", intent="recommend", entities=[],
    ))
    assert not plain[0]["text"].startswith("Here are some products like")
