"""Consent and privacy actions on the real small store: summary, consent asked once and
changed by chat, "delete my data" erasing events and cart and anonymizing orders, audited."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from actions.cart import ActionAddToCart
from actions.context import unit_of_work
from actions.privacy import (
    ActionAskDeleteConfirmation,
    ActionConsentChange,
    ActionDeleteMyData,
    ActionPrivacySummary,
)
from actions.recommend import ActionRecommend
from actions.search import ActionProductDetails
from assistant.settings import Settings
from assistant.store.models import AuditLog, Cart, Customer, Event, Order, OrderItem
from tests.actions_harness import T0, action_store, run, slots, texts, tracker  # noqa: F401


def seed_customer(customer_id: str, orders: int = 1) -> None:
    with unit_of_work() as uow:
        uow.customers.upsert(customer_id, email=f"{customer_id}@example.com", name=customer_id.title(), loyalty_tier="gold")
        for n in range(orders):
            order = Order(order_number=f"{customer_id.upper()}-{n}", customer_id=customer_id, email=f"{customer_id}@example.com",
                          status="delivered", placed_at=T0 + timedelta(days=n), total=19.99, currency="USD")
            order.items = [OrderItem(product_id="T007", quantity=1, unit_price=19.99)]
            uow.session.add(order)
        uow.commit()


def audit(customer_id: str) -> list[tuple[str, dict[str, Any] | None]]:
    with unit_of_work() as uow:
        return [(row.action, row.detail) for row in reversed(uow.audit.for_customer(customer_id))]


def privacy(customer: str | None, settings: Settings, **changes: Any) -> Any:
    return tracker("privacy", customer, settings, sender_id=f"chat-{customer or 'guest'}", **changes)


async def test_summary_tells_a_customer_what_is_stored_and_is_audited(action_store: Settings) -> None:
    seed_customer("pia", orders=2)
    await run(ActionProductDetails(), tracker("product_details", "pia", action_store, sender_id="chat-pia"))
    _, messages = await run(ActionPrivacySummary(), privacy("pia", action_store))
    text = texts(messages)
    assert "name Pia, e-mail pia@example.com, loyalty tier gold" in text
    assert "Use of your history for suggestions: not asked yet; marketing messages: no" in text
    assert "Orders: 2 orders, the latest PIA-1 on" in text and "(delivered)" in text
    assert "1 product views, 0 searches" in text
    assert [action for action, _ in audit("pia")] == ["privacy_summary"]


async def test_guests_are_told_privacy_requests_need_the_store_login(action_store: Settings) -> None:
    for action in (ActionPrivacySummary(), ActionAskDeleteConfirmation()):
        _, messages = await run(action, privacy(None, action_store))
        assert texts(messages).startswith("I can only do that for a signed-in customer")
    _, messages = await run(ActionConsentChange(), privacy(None, action_store, intent="consent_change", text="stop using my history"))
    assert texts(messages).startswith("I can only do that for a signed-in customer")


async def test_consent_is_asked_once_and_the_answer_is_stored(action_store: Settings) -> None:
    seed_customer("quinn")
    asked = privacy("quinn", action_store, intent="recommend", text="recommend something", entities=[])
    events, messages = await run(ActionRecommend(), asked)
    assert len(messages) == 2  # the recommendation's own reply first (suggestions, or none yet), then the question
    assert messages[-1]["text"] == "May I use your order history to personalize suggestions?"
    assert [b["payload"] for b in messages[-1]["buttons"]] == ["/affirm", "/deny"]
    assert slots(events)["consent_question_pending"] is True
    again, messages = await run(ActionRecommend(), asked)
    assert "consent_question_pending" not in slots(again) and len(messages) == 1

    events, messages = await run(ActionConsentChange(), privacy(
        "quinn", action_store, intent="affirm", text="yes", slots={"consent_question_pending": True}))
    assert slots(events) == {"consent_question_pending": None}
    assert texts(messages).startswith("Thanks! I'll use your orders")
    with unit_of_work() as uow:
        customer = uow.customers.get("quinn")
        assert customer is not None and customer.personalization_consent is True and customer.consent_asked_at is not None
    assert audit("quinn")[-1] == ("consent_change", {"personalization": {"from": None, "to": True}, "via": "question"})


async def test_a_yes_with_no_open_question_changes_nothing(action_store: Settings) -> None:
    seed_customer("rory")
    _, messages = await run(ActionConsentChange(), privacy("rory", action_store, intent="affirm", text="yes"))
    assert messages == [{"response": "utter_ok_anything_else", "text": None, "buttons": [], "elements": [],
                         "custom": {}, "template": "utter_ok_anything_else", "image": None, "attachment": None}]
    with unit_of_work() as uow:
        assert uow.customers.get("rory").personalization_consent is None  # type: ignore[union-attr]


async def test_consent_changes_by_chat_reach_the_recommender(action_store: Settings) -> None:
    from actions.recommend import recommender
    from assistant.recommend import Request

    seed_customer("tess", orders=2)

    def personalized() -> bool:
        with unit_of_work() as uow:
            return recommender().recommend(uow, "tess", Request(k=5))[1]

    assert personalized() is False  # never asked: history unused
    cases = [("you can use my history", [], True), ("stop using my history", [], False),
             ("please go ahead", [{"entity": "consent", "value": "on"}], True),
             ("i don't want personalized suggestions", [], False)]
    for text, entities, expected in cases:
        await run(ActionConsentChange(), privacy("tess", action_store, intent="consent_change", text=text, entities=entities))
        with unit_of_work() as uow:
            assert uow.customers.get("tess").personalization_consent is expected, text  # type: ignore[union-attr]
        assert personalized() is expected, text


async def test_delete_my_data_erases_events_and_cart_and_anonymizes_orders(action_store: Settings) -> None:
    seed_customer("sam", orders=2)
    cart = {"sender_id": "chat-sam"}
    await run(ActionAddToCart(), tracker("cart", "sam", action_store, **cart))
    await run(ActionProductDetails(), tracker("product_details", "sam", action_store, sender_id="chat-sam"))
    await run(ActionAddToCart(), tracker("cart", None, action_store, sender_id="chat-sam"))  # before signing in

    events, messages = await run(ActionAskDeleteConfirmation(), privacy("sam", action_store, intent="delete_my_data"))
    assert slots(events) == {"pending_data_deletion": True}
    assert "Your 2 orders are kept for 7 years because tax and accounting law requires it, but anonymized" in texts(messages)

    nothing, messages = await run(ActionDeleteMyData(), privacy("sam", action_store, intent="affirm"))
    assert nothing == [] and texts(messages).startswith("There's no deletion waiting")

    events, messages = await run(ActionDeleteMyData(), privacy(
        "sam", action_store, intent="affirm", slots={"pending_data_deletion": True}))
    assert [event["event"] for event in events] == ["restart", "followup"]
    assert "I kept your 2 orders for 7 years, as tax and accounting law requires, anonymized" in texts(messages)
    with unit_of_work() as uow:
        session = uow.session
        assert session.get(Customer, "sam") is None
        assert session.scalar(select(func.count(Event.id)).where(
            (Event.customer_id == "sam") | (Event.session_id == "chat-sam"))) == 0
        assert session.scalar(select(func.count(Cart.id)).where(
            (Cart.customer_id == "sam") | (Cart.session_key == "chat-sam"))) == 0
        orders = list(session.scalars(select(Order).where(Order.order_number.in_(["SAM-0", "SAM-1"]))))
        assert len(orders) == 2 and {order.email for order in orders} == {None}
        [owner] = {order.customer_id for order in orders}
        assert owner.startswith("erased-") and session.get(Customer, owner).email is None  # type: ignore[union-attr]
        assert session.scalar(select(func.count(AuditLog.id)).where(AuditLog.customer_id == "sam")) == 1
    [(action, detail)] = audit("sam")
    assert action == "data_erasure"
    assert detail == {"events_deleted": 3, "carts_deleted": 2, "orders_anonymized": 2, "conversations_cleared": 1,
                      "alerts_deleted": 0}
