"""Privacy and consent through the real stack (Rasa + action server + store)."""

from __future__ import annotations

import json
import urllib.request
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select

from assistant.identity import sign_customer_token
from assistant.rasa_conversation import Conversation, texts
from assistant.settings import Settings
from assistant.store.db import UnitOfWork, make_engine, make_session_factory
from assistant.store.models import AuditLog, Cart, Customer, Event, Order, OrderItem, Product

pytestmark = pytest.mark.integration


def store(settings: Settings) -> tuple[Any, Any]:
    engine = make_engine(settings.database_url)
    return engine, make_session_factory(engine)


def chat_as(stack: dict[str, Any], customer: str) -> Conversation:
    settings: Settings = stack["settings"]
    return Conversation(f"http://127.0.0.1:{stack['ports'].rasa}", settings.gateway_token, f"web-customer-{customer}",
                        sign_customer_token(customer, settings.store_secret))


def test_delete_my_data_in_conversation(stack: dict[str, Any]) -> None:
    settings: Settings = stack["settings"]
    customer = "forget-me-e2e"
    engine, sessions = store(settings)
    try:
        with UnitOfWork(sessions) as uow:
            product = uow.session.scalars(select(Product).limit(1)).one()
            uow.customers.upsert(customer, email="forget@example.com", name="Forget Me")
            order = Order(order_number="FORGET-1", customer_id=customer, email="forget@example.com", status="delivered",
                          placed_at=datetime(2026, 1, 5, tzinfo=UTC), total=product.price, currency="USD")
            order.items = [OrderItem(product_id=product.id, quantity=1, unit_price=product.price)]
            uow.session.add(order)
            uow.commit()

        chat = chat_as(stack, customer)
        chat.say("show me hiking boots")
        assert "Added 1 x" in texts(chat.say("add the first one to my cart"))
        summary = texts(chat.say("what do you know about me"))
        assert "Here's what we store about you:" in summary and "Orders: 1 order, the latest FORGET-1" in summary
        question = texts(chat.say("delete my data"))
        assert "Your 1 order is kept for 7 years because tax and accounting law requires it" in question
        done = texts(chat.say("yes"))
        assert done.startswith("Done. I deleted your history, cart, preferences and profile")
        assert "I kept your 1 order for 7 years, as tax and accounting law requires, anonymized" in done

        with UnitOfWork(sessions) as uow:
            session = uow.session
            assert session.get(Customer, customer) is None
            assert session.scalar(select(func.count(Event.id)).where(Event.customer_id == customer)) == 0
            assert session.scalar(select(func.count(Cart.id)).where(Cart.customer_id == customer)) == 0
            kept = session.scalars(select(Order).where(Order.order_number == "FORGET-1")).one()
            assert kept.customer_id.startswith("erased-") and kept.email is None
            audit = session.scalars(select(AuditLog.action).where(AuditLog.customer_id == customer).order_by(AuditLog.id))
            assert list(audit) == ["privacy_summary", "data_erasure"]
    finally:
        engine.dispose()

    url = f"http://127.0.0.1:{stack['ports'].rasa}/conversations/{chat.sender}/tracker?token={settings.rasa_token}"
    with urllib.request.urlopen(url, timeout=30) as response:
        tracker = json.loads(response.read())
    said = [event.get("text") for event in tracker["events"] if event["event"] == "user"]
    assert "show me hiking boots" not in said and "what do you know about me" not in said
    assert texts(chat.say("hello"))  # the conversation goes on after the reset


def test_consent_is_asked_once_after_a_recommendation(stack: dict[str, Any]) -> None:
    customer = "consent-e2e"
    chat = chat_as(stack, customer)
    first = chat.say("what would you recommend for me?")
    asked = [message for message in first if message.get("text") == "May I use your order history to personalize suggestions?"]
    assert asked and [button["payload"] for button in asked[0]["buttons"]] == ["/affirm", "/deny"]
    assert texts(chat.say("/deny", button=True)).startswith("Okay, I won't use your order history")
    again = chat.say("recommend something")
    assert not [m for m in again if "May I use your order history" in str(m.get("text"))]
    assert "you can change that" not in texts(again).lower()
    assert texts(chat.say("you can use my history")).startswith("Thanks! I'll use your orders")
    engine, sessions = store(stack["settings"])
    try:
        with UnitOfWork(sessions) as uow:
            stored = uow.customers.get(customer)
            assert stored is not None and stored.personalization_consent is True and stored.consent_asked_at is not None
    finally:
        engine.dispose()
