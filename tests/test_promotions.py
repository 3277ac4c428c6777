"""Promotions: matching rules, the store's offer table, and offers in chat and under search results."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from rasa_sdk import Tracker
from sqlalchemy import delete

from actions.context import unit_of_work
from actions.promotions import ActionPromotions
from actions.search import ActionSearchProducts
from assistant.promotions import GUEST, ShopperFacts, covers, eligible, mentions, offers_for_products
from assistant.settings import Settings
from assistant.store.models import Promotion, utcnow
from tests.actions_harness import action_store, payloads, run, texts, tracker  # noqa: F401

BOOT = {"id": "B001", "title": "Summit Pro Waterproof Hiking Boots", "category": "Shoes", "subcategory": "Hiking Boots"}
MUG = {"id": "T007", "title": "Insulated Camping Mug", "category": "Camping", "subcategory": "Camp Kitchen"}


def offer(**fields: object) -> Promotion:
    defaults: dict[str, object] = {"code": "X", "title": "Offer", "kind": "percent", "value": 10, "scope": "store",
                                   "scope_value": None, "segment": "everyone", "segment_value": None}
    return Promotion(**{**defaults, **fields})


@pytest.mark.parametrize(("promotion", "product", "expected"), [
    (offer(), MUG, True),
    (offer(scope="category", scope_value="hiking boots"), BOOT, True),  # subcategory, any case
    (offer(scope="category", scope_value="SHOES"), BOOT, True),
    (offer(scope="category", scope_value="shoes"), MUG, False),
    (offer(scope="product", scope_value="T007"), MUG, True),
    (offer(scope="product", scope_value="T007"), BOOT, False),
])
def test_scope(promotion: Promotion, product: dict[str, str], expected: bool) -> None:
    assert covers(promotion, product) is expected


@pytest.mark.parametrize(("promotion", "shopper", "expected"), [
    (offer(segment="new_customers"), ShopperFacts(has_ordered=True), False),
    (offer(segment="new_customers"), ShopperFacts(has_ordered=False), True),
    (offer(segment="new_customers"), GUEST, True),  # a guest may be new: shown with its condition
    (offer(segment="loyalty_tier", segment_value="gold"), ShopperFacts(has_ordered=True, loyalty_tier="Gold"), True),
    (offer(segment="loyalty_tier", segment_value="gold"), ShopperFacts(has_ordered=True, loyalty_tier="silver"), False),
    (offer(segment="everyone"), ShopperFacts(has_ordered=True, loyalty_tier="bronze"), True),
])
def test_segments(promotion: Promotion, shopper: ShopperFacts, expected: bool) -> None:
    assert eligible(promotion, shopper) is expected


def test_segments_have_no_protected_attributes() -> None:
    assert set(ShopperFacts.__dataclass_fields__) == {"has_ordered", "loyalty_tier"}
    assert not {"age", "gender", "birth_date", "ethnicity", "religion", "nationality"} & set(Promotion.__table__.columns.keys())


def test_mentions_match_the_named_category_or_product() -> None:
    boots = offer(scope="category", scope_value="hiking boots")
    assert mentions(boots, "is there a discount on boots?")
    assert not mentions(boots, "any deals on hiking poles")
    assert mentions(offer(scope="product", scope_value="T007"), "deal on the camping mug", "Insulated Camping Mug")
    assert not mentions(offer(), "any deals on shoes")
    assert offers_for_products([boots, offer(scope="product", scope_value="K001")], [BOOT, MUG], GUEST) == [boots]


@pytest.fixture
def offers(action_store: Settings) -> Iterator[None]:
    """Three offers in the shared test store, removed afterwards so other tests see none."""
    now = utcnow()
    with unit_of_work() as uow:
        uow.promotions.add("BOOTS20", "Boot days", "percent", 20, scope="category", scope_value="hiking boots",
                           min_basket=100, ends_at=datetime(2099, 12, 1, tzinfo=UTC))
        uow.promotions.add("WELCOME10", "Welcome", "amount", 10, segment="new_customers")
        uow.promotions.add("OLD", "Expired", "percent", 50, ends_at=now - timedelta(days=1), starts_at=now - timedelta(days=9))
        uow.commit()
    yield
    with unit_of_work() as uow:
        uow.session.execute(delete(Promotion))
        uow.commit()


def test_invalid_offers_are_refused_with_a_reason(action_store: Settings) -> None:
    bad = [
        ({"kind": "bogus"}, "kind must be one of"),
        ({"value": 120}, "below 100 for a percentage"),
        ({"scope": "category"}, "needs --on NAME"),
        ({"segment": "loyalty_tier"}, "needs --tier NAME"),
        ({"segment": "age_over_60"}, "segment must be one of"),
        ({"starts_at": utcnow(), "ends_at": utcnow() - timedelta(days=1)}, "must end after it starts"),
    ]
    for fields, message in bad:
        args = {"kind": "percent", "value": 10, **fields}
        with unit_of_work() as uow, pytest.raises(ValueError, match=message):
            uow.promotions.add("BAD", "Bad", args.pop("kind"), args.pop("value"), **args)


async def test_any_deals_lists_active_offers_with_conditions(action_store: Settings, offers: None) -> None:
    _, messages = await run(ActionPromotions(), tracker("cart", intent="ask_promotions", text="any deals?", entities=[]))
    assert texts(messages) == (
        "Current offers:\n"
        "- Boot days: 20% off hiking boots, when you spend $100.00 or more, until Dec 1\n"
        "- Welcome: $10.00 off everything, for new customers on their first order\n"
        "Prices shown in the shop are before the offer."
    )


async def test_a_customer_with_orders_does_not_see_the_new_customer_offer(action_store: Settings, offers: None) -> None:
    _, messages = await run(ActionPromotions(), tracker(
        "cart", "alice", action_store, intent="ask_promotions", text="is there a discount on boots", entities=[]))
    assert texts(messages).startswith("Yes, here's what applies:\n- Boot days: 20% off hiking boots")
    assert "Welcome" not in texts(messages)


async def test_no_offer_on_the_named_thing_says_so(action_store: Settings, offers: None) -> None:
    _, messages = await run(ActionPromotions(), tracker(
        "cart", "alice", action_store, intent="ask_promotions", text="any discount on tents",
        entities=[{"entity": "product_type", "value": "tents"}]))
    assert texts(messages).startswith("There's no discount on tents itself right now. Current offers:")


async def test_search_results_carry_the_offer_line_with_catalog_prices(action_store: Settings, offers: None) -> None:
    _, messages = await run(ActionSearchProducts(), tracker("search_new"))
    [payload] = payloads(messages, "products")
    assert {card["id"]: card["price"] for card in payload["products"]}["B001"] == 129.99  # the catalog's price
    assert messages[-1]["text"] == "Offers: Boot days: 20% off hiking boots, when you spend $100.00 or more, until Dec 1; " \
        "Welcome: $10.00 off everything, for new customers on their first order."


async def test_an_offer_already_stated_is_not_repeated_under_the_next_search(action_store: Settings, offers: None) -> None:
    earlier = {"event": "bot", "text": "Offers: Welcome: $10.00 off everything, for new customers on their first order."}
    state = tracker("search_new").current_state()
    state["events"] = [*state["events"], earlier]
    _, messages = await run(ActionSearchProducts(), Tracker.from_dict(state))
    assert messages[-1]["text"] == "Offers: Boot days: 20% off hiking boots, when you spend $100.00 or more, until Dec 1."
