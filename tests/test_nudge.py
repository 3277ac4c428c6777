"""Abandoned-cart reminders: which carts are due, quiet hours, once per cart version.

Selection runs on a fresh SQLite store; the one end-to-end reminder goes through the real
Rasa (trigger_intent) and is read back from the conversation's tracker.
"""

from __future__ import annotations

import dataclasses
import json
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from assistant.identity import sign_customer_token
from assistant.launcher import free_port
from assistant.nudge import is_quiet, parse_quiet_hours, run_nudges
from assistant.rasa_conversation import Conversation, texts
from assistant.settings import Settings, load_settings
from assistant.store.db import UnitOfWork, make_engine, make_session_factory, migrate
from assistant.store.models import Cart, CartNudge, Customer, Product

NOON = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(("spec", "local", "quiet"), [
    ("21:00-09:00", "22:30", True), ("21:00-09:00", "08:59", True), ("21:00-09:00", "09:00", False),
    ("21:00-09:00", "12:00", False), ("13:00-14:00", "13:30", True), ("13:00-14:00", "14:00", False),
    ("", "03:00", False),
])
def test_quiet_hours_wrap_past_midnight(spec: str, local: str, quiet: bool) -> None:
    now = datetime.fromisoformat(f"2026-01-15T{local}:00+00:00")
    assert is_quiet(now, parse_quiet_hours(spec), ZoneInfo("UTC")) is quiet


def test_a_bad_quiet_hours_setting_is_reported() -> None:
    with pytest.raises(ValueError, match="21:00-09:00"):
        parse_quiet_hours("after nine")


@pytest.fixture
def store(tmp_path: Path) -> Settings:
    """A fresh store: five customers with carts, only some due for a reminder."""
    unreachable_rasa = f"http://127.0.0.1:{free_port()}"
    settings = load_settings(tmp_path, env={
        "SHOP_RASA_URL": unreachable_rasa, "SHOP_EMBEDDING_MODEL": "unused", "SHOP_STORE_SECRET": "s",
        "RASA_AUTH_TOKEN": "t", "ACTION_SERVER_TOKEN": "a", "GATEWAY_TOKEN": "g", "SHOP_WEB_SECRET": "w",
        "SHOP_STOREFRONT_KEY": "k", "SHOP_NUDGE_AFTER_MINUTES": "120", "SHOP_QUIET_HOURS": "21:00-09:00",
        "SHOP_TIME_ZONE": "UTC",
    })
    migrate(settings.database_url)
    engine = make_engine(settings.database_url)
    try:
        with UnitOfWork(make_session_factory(engine)) as uow:
            uow.session.add(Product(id="P1", title="Tent", price=100.0, currency="USD"))
            # id -> (marketing consent, last sender, time zone, cart age in minutes)
            people = {"due": (True, "web-customer-due", None, 180), "fresh": (True, "web-customer-fresh", None, 30),
                      "no-consent": (False, "web-customer-nc", None, 180), "never-chatted": (True, None, None, 180),
                      "new-york": (True, "web-customer-ny", "America/New_York", 180)}
            for customer_id, (consent, sender, zone, age) in people.items():
                uow.customers.upsert(customer_id, marketing_consent=consent, last_sender_id=sender,
                                     last_channel="gateway" if sender else None, time_zone=zone)
                cart = uow.carts.get_or_create(customer_id=customer_id)
                uow.carts.add_item(cart, "P1")
                uow.session.execute(update(Cart).where(Cart.id == cart.id).values(updated_at=NOON - timedelta(minutes=age)))
            uow.customers.upsert("empty", marketing_consent=True, last_sender_id="web-customer-empty", last_channel="gateway")
            uow.carts.get_or_create(customer_id="empty")
            uow.commit()
    finally:
        engine.dispose()
    return settings


def customers(labels: list[str]) -> list[str]:
    return [label.split(" ")[0] for label in labels]


def test_due_carts_respect_delay_consent_channel_and_quiet_hours(store: Settings) -> None:
    report = run_nudges(store, now=NOON, dry_run=True)
    assert customers(report.planned) == ["due"]
    assert customers(report.quiet) == ["new-york"]  # 07:00 there
    assert report.sent == [] and report.failed == []
    evening = run_nudges(store, now=NOON + timedelta(hours=10), dry_run=True)  # 22:00 UTC, 17:00 in New York
    assert customers(evening.planned) == ["new-york"] and customers(evening.quiet) == ["due", "fresh"]


def test_each_cart_version_is_reminded_once(store: Settings) -> None:
    first = run_nudges(store, now=NOON)  # Rasa is not running: the attempt fails, and is logged
    assert customers(first.failed) == ["due"]
    assert run_nudges(store, now=NOON + timedelta(minutes=5)).summary() == \
        "0 sent, 0 would be sent (dry run), 1 held for quiet hours, 0 failed"
    engine = make_engine(store.database_url)
    try:
        with UnitOfWork(make_session_factory(engine)) as uow:
            [logged] = uow.session.scalars(select(CartNudge))
            assert (logged.customer_id, logged.status, logged.channel) == ("due", "failed", "gateway")
            assert logged.detail is not None and logged.detail.startswith("POST /conversations/web-customer-due/trigger_intent")
            cart = uow.carts.get(customer_id="due")
            assert cart is not None
            uow.carts.add_item(cart, "P1")  # the shopper came back: a new cart version
            uow.session.execute(update(Cart).where(Cart.id == cart.id).values(updated_at=NOON))
            uow.commit()
    finally:
        engine.dispose()
    later = run_nudges(store, now=NOON + timedelta(hours=3), dry_run=True)
    assert sorted(customers(later.planned)) == ["due", "fresh", "new-york"]  # "due" again: its cart changed


@pytest.mark.integration
def test_a_real_reminder_reaches_the_customers_conversation(stack: dict[str, Any]) -> None:
    settings: Settings = stack["settings"]
    rasa_url = f"http://127.0.0.1:{stack['ports'].rasa}"
    customer = "nudge-e2e"
    chat = Conversation(rasa_url, settings.gateway_token, f"web-customer-{customer}",
                        sign_customer_token(customer, settings.store_secret))
    chat.say("show me hiking boots")
    added = chat.say("add the first one to my cart")
    assert "Added 1 x" in texts(added)
    engine = make_engine(settings.database_url)
    try:
        with UnitOfWork(make_session_factory(engine)) as uow:
            uow.customers.upsert(customer, marketing_consent=True)
            uow.session.execute(update(Cart).where(Cart.customer_id == customer).values(
                updated_at=datetime.now(UTC) - timedelta(days=1)))
            stored = uow.session.get(Customer, customer)
            assert stored is not None and (stored.last_sender_id, stored.last_channel) == (chat.sender, "gateway")
            uow.commit()
    finally:
        engine.dispose()

    live = dataclasses.replace(settings, rasa_url=rasa_url, quiet_hours="")
    report = run_nudges(live)
    assert [label for label in report.sent if label.startswith(customer)], report.summary()
    assert not [label for label in run_nudges(live).sent if label.startswith(customer)]  # once per cart version

    url = f"{rasa_url}/conversations/{chat.sender}/tracker?token={settings.rasa_token}"
    with urllib.request.urlopen(url, timeout=30) as response:
        events = json.loads(response.read())["events"]
    intents = [e["parse_data"]["intent"]["name"] for e in events if e["event"] == "user"]
    assert intents[-1] == "cart_reminder"
    actions = [e["name"] for e in events if e["event"] == "action"]
    assert "action_cart_reminder" in actions
    bot = [e for e in events if e["event"] == "bot"]
    reminder = [e for e in bot if (e.get("text") or "").startswith("You left something in your cart.")]
    assert reminder and reminder[-1]["data"]["custom"]["type"] == "cart"
