"""End-to-end conversations through the real Rasa server, action server and demo store."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from assistant.identity import sign_customer_token
from assistant.rasa_conversation import Conversation, payloads, product_ids, texts
from assistant.settings import Settings
from assistant.store.db import UnitOfWork, make_engine, make_session_factory
from assistant.store.models import HandoffRequest, Order

pytestmark = pytest.mark.integration


def conversation(stack: dict[str, Any], sender: str, customer_id: str | None = None) -> Conversation:
    settings: Settings = stack["settings"]
    token = sign_customer_token(customer_id, settings.store_secret) if customer_id else None
    return Conversation(f"http://127.0.0.1:{stack['ports'].rasa}", settings.gateway_token, sender, token)


def query_store(settings: Settings, statement: Any) -> list[Any]:
    engine = make_engine(settings.database_url)
    try:
        with UnitOfWork(make_session_factory(engine)) as uow:
            return list(uow.session.scalars(statement).all())
    finally:
        engine.dispose()


def is_hiking_footwear(product: dict[str, Any]) -> bool:
    words = " ".join(str(product.get(key) or "") for key in ("title", "category", "subcategory")).lower()
    return "hiking" in words and any(word in words for word in ("boot", "shoe", "footwear"))


def test_search_refine_and_show_more(stack: dict[str, Any], sender: str, catalog: dict[str, dict[str, Any]]) -> None:
    chat = conversation(stack, sender)

    first = product_ids(chat.say("waterproof hiking boots under $150"))
    assert first, "the search returned no products"
    for product_id in first:
        product = catalog[product_id]
        assert is_hiking_footwear(product), product["title"]
        assert product["price"] < 150

    black = product_ids(chat.say("in black"))
    assert black
    for product_id in black:
        product = catalog[product_id]
        assert is_hiking_footwear(product) and product["price"] < 150
        assert product["color"] == "black"

    more = product_ids(chat.say("show more"))
    shown_black = set(black)
    assert not shown_black & set(more), "show more repeated products"
    for product_id in more:
        assert catalog[product_id]["color"] == "black" and catalog[product_id]["price"] < 150


def test_logged_in_customer_gets_latest_order(stack: dict[str, Any], sender: str) -> None:
    settings: Settings = stack["settings"]
    orders = query_store(settings, select(Order).order_by(Order.placed_at.desc()))
    latest_by_customer: dict[str, Order] = {}
    for order in orders:
        latest_by_customer.setdefault(order.customer_id, order)
    customer_id, latest = next(
        (cid, order) for cid, order in sorted(latest_by_customer.items()) if order.status == "shipped"
    )

    reply = conversation(stack, sender, customer_id).say("where is my order")
    cards = payloads(reply, "order_status")
    assert cards, texts(reply)
    assert cards[0]["order"]["order_number"] == latest.order_number
    assert cards[0]["order"]["status"] == latest.status
    assert latest.order_number in texts(reply)


def guest_lookup(stack: dict[str, Any], sender: str, order_number: str, email: str) -> list[dict[str, Any]]:
    chat = conversation(stack, sender)
    return chat.say(f"where is my order {order_number}") + chat.say(f"my email is {email}")


def test_guest_cannot_read_someone_elses_order(stack: dict[str, Any], sender: str) -> None:
    settings: Settings = stack["settings"]
    victim = query_store(settings, select(Order).where(Order.status == "shipped").limit(1))[0]
    stranger = "somebody.else@example.org"

    reply = guest_lookup(stack, sender, victim.order_number, stranger)
    shown = texts(reply).lower()
    assert not payloads(reply, "order_status")
    assert "shipped" not in shown and "tracking" not in shown
    assert victim.email.lower() not in shown

    # The refusal for a real order with the wrong email reads exactly like the one for an
    # order that does not exist: nothing tells a prober which order numbers are real.
    missing = guest_lookup(stack, sender + "-b", "SA-000001", stranger)
    assert texts(reply[-1:]).replace(victim.order_number, "#") == texts(missing[-1:]).replace("SA-000001", "#")


def test_guest_with_matching_email_sees_the_order(stack: dict[str, Any], sender: str) -> None:
    settings: Settings = stack["settings"]
    order = query_store(settings, select(Order).where(Order.status == "delayed").limit(1))[0]
    reply = guest_lookup(stack, sender, order.order_number, order.email.upper())
    cards = payloads(reply, "order_status")
    assert cards and cards[0]["order"]["order_number"] == order.order_number
    assert cards[0]["order"]["status"] == "delayed"


def test_talk_to_a_person_creates_handoff(stack: dict[str, Any], sender: str) -> None:
    reply = conversation(stack, sender).say("I want to talk to a person")
    assert texts(reply)
    requests = query_store(stack["settings"], select(HandoffRequest).where(HandoffRequest.sender_id == sender))
    assert len(requests) == 1
    assert requests[0].status == "waiting"


@pytest.mark.parametrize(
    "message",
    ["asdkjh qwpoeiru zxmcnv", "🙂🙂🔥", "x" * 10_000, "", "   ", "<script>alert(1)</script>"],
    ids=["garbage", "emoji", "10k-chars", "empty", "blank", "html"],
)
def test_bad_input_gets_a_polite_answer(stack: dict[str, Any], sender: str, message: str) -> None:
    chat = conversation(stack, sender)
    reply = chat.say(message)
    assert texts(reply).strip(), f"no answer to {message[:30]!r}"
    assert not payloads(reply, "order_status")
    assert texts(chat.say("hello")).strip(), "the server stopped answering"
