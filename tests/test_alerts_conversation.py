"""Back-in-stock and price-drop alerts end to end: set in chat, fired by the reminder runner
after a real ``shop-assistant catalog upsert``, read back from the Rasa trackers.

The test store's catalog is shared by the test session: every product this module changes
is upserted back to its original stock and price before the module ends.
"""

from __future__ import annotations

import dataclasses
import json
import re
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from assistant.cli import main
from assistant.identity import sign_customer_token
from assistant.nudge import run_nudges
from assistant.rasa_conversation import Conversation, product_ids, texts
from assistant.settings import Settings
from assistant.store.db import UnitOfWork, make_engine, make_session_factory
from assistant.store.models import ProductAlert
from catalog_index.schema import in_stock

pytestmark = pytest.mark.integration
ORDINALS = ["first", "second", "third", "fourth", "fifth"]
PLAIN_TITLE = re.compile(r"[A-Za-z0-9' -]+")


class Shop:
    """The running stack seen from the test: chats, the store, the catalog command, the runner."""

    def __init__(self, stack: dict[str, Any], catalog: dict[str, dict[str, Any]], tmp: Path,
                 monkeypatch: pytest.MonkeyPatch) -> None:
        self.settings: Settings = stack["settings"]
        self.rasa_url = f"http://127.0.0.1:{stack['ports'].rasa}"
        self.catalog, self.tmp, self.changed = catalog, tmp, set[str]()
        monkeypatch.setenv("SHOP_DATABASE_URL", self.settings.database_url)  # what the CLI reads

    def chat(self, customer: str | None, sender: str) -> Conversation:
        token = sign_customer_token(customer, self.settings.store_secret) if customer else None
        return Conversation(self.rasa_url, self.settings.gateway_token, sender, token)

    def set_marketing_consent(self, customer: str, consent: bool) -> None:
        with self.store() as uow:
            uow.customers.upsert(customer, marketing_consent=consent)
            uow.commit()

    def store(self) -> UnitOfWork:
        engine = make_engine(self.settings.database_url)
        self._engines = [*getattr(self, "_engines", []), engine]
        return UnitOfWork(make_session_factory(engine))

    def upsert(self, product_id: str, **fields: Any) -> None:
        """``shop-assistant catalog upsert FILE`` with the product's record changed."""
        path = self.tmp / f"{product_id}-{len(fields)}-{abs(hash(json.dumps(fields, sort_keys=True)))}.jsonl"
        path.write_text(json.dumps({**self.catalog[product_id], **fields}) + "\n", encoding="utf-8")
        self.changed.add(product_id)
        assert main(["--data-dir", str(self.settings.data_dir), "catalog", "upsert", str(path)]) == 0

    def run_reminders(self) -> list[str]:
        """One pass of the reminder runner outside quiet hours; the labels of what it sent."""
        report = run_nudges(dataclasses.replace(self.settings, rasa_url=self.rasa_url, quiet_hours=""))
        assert report.failed == [], report.failed
        return report.sent

    def tracker(self, sender: str) -> list[dict[str, Any]]:
        url = f"{self.rasa_url}/conversations/{sender}/tracker?token={self.settings.rasa_token}"
        with urllib.request.urlopen(url, timeout=30) as response:
            return list(json.loads(response.read())["events"])

    def alert_statuses(self, customer: str) -> list[tuple[str, str, str]]:
        with self.store() as uow:
            rows = uow.session.scalars(select(ProductAlert).where(ProductAlert.customer_id == customer))
            return [(alert.product_id, alert.kind, alert.status) for alert in rows]

    def restore(self) -> None:
        for product_id in sorted(self.changed):
            self.upsert(product_id)
        for engine in getattr(self, "_engines", []):
            engine.dispose()


@pytest.fixture
def shop(stack: dict[str, Any], catalog: dict[str, dict[str, Any]], tmp_path: Path,
         monkeypatch: pytest.MonkeyPatch) -> Iterator[Shop]:
    shop = Shop(stack, catalog, tmp_path, monkeypatch)
    try:
        yield shop
    finally:
        shop.restore()


def focus(chat: Conversation, catalog: dict[str, dict[str, Any]], skip: set[str]) -> dict[str, Any]:
    """Open an in-stock, priced product the shopper found by its title (the product in focus)."""
    candidates = [p for p in reversed(catalog.values()) if in_stock(p) and p.get("price") and p["id"] not in skip
                  and PLAIN_TITLE.fullmatch(p["title"])]  # not the catalog's markup-injection test listing
    for product in candidates[:8]:
        shown = product_ids(chat.say(f"show me {product['title']}"))
        if product["id"] in shown[:len(ORDINALS)]:
            details = texts(chat.say(f"tell me more about the {ORDINALS[shown.index(product['id'])]} one"))
            assert product["title"] in details
            return product
    raise AssertionError("no product could be brought into focus by its title")


def user_intents(events: list[dict[str, Any]]) -> list[str]:
    return [event["parse_data"]["intent"]["name"] for event in events if event["event"] == "user"]


def bot_texts(events: list[dict[str, Any]]) -> list[str]:
    return [event.get("text") or "" for event in events if event["event"] == "bot"]


def test_a_back_in_stock_alert_fires_once_and_never_without_marketing_consent(shop: Shop) -> None:
    fan, shy = "alert-fan-e2e", "alert-shy-e2e"
    shop.set_marketing_consent(fan, True)
    shop.set_marketing_consent(shy, False)
    fan_chat, shy_chat = shop.chat(fan, f"web-customer-{fan}"), shop.chat(shy, f"web-customer-{shy}")

    product = focus(fan_chat, shop.catalog, skip=set())
    title = product["title"]
    assert f"{title} is in stock now" in texts(fan_chat.say("tell me when it's back in stock"))

    shop.upsert(product["id"], stock={place: 0 for place in product["stock"]})  # sold out everywhere
    assert f"Okay, I'll tell you here when {title} is back in stock." in texts(fan_chat.say("tell me when it's back"))
    assert "You already have that alert" in texts(fan_chat.say("let me know when it's back in stock"))
    assert focus(shy_chat, shop.catalog, skip=set()) == product
    shy_reply = texts(shy_chat.say("notify me when it's back in stock"))
    assert f"when {title} is back in stock" in shy_reply and "You haven't agreed to messages" in shy_reply
    listed = texts(fan_chat.say("what alerts do I have"))
    assert "You have 1 alert:" in listed and f"{title}: when it's back in stock" in listed

    assert not [label for label in shop.run_reminders() if label.startswith(("alert-", fan, shy))]  # still sold out

    shop.upsert(product["id"])  # back in stock: the catalog's original record
    sent = [label for label in shop.run_reminders() if label.startswith((fan, shy))]
    assert sent == [f"{fan} (alerts: back in stock {product['id']}; gateway)"]
    assert not [label for label in shop.run_reminders() if label.startswith((fan, shy))]  # once only

    fan_events = shop.tracker(fan_chat.sender)
    assert user_intents(fan_events).count("alert_fired") == 1
    fired = [text for text in bot_texts(fan_events) if text.startswith("Good news about the products")]
    assert len(fired) == 1 and f"- {title} is back in stock" in fired[0]
    assert "alert_fired" not in user_intents(shop.tracker(shy_chat.sender))
    assert shop.alert_statuses(fan) == [(product["id"], "back_in_stock", "sent")]
    assert shop.alert_statuses(shy) == [(product["id"], "back_in_stock", "active")]  # kept, never sent

    added = texts(fan_chat.say("add the first one to my cart"))  # the alert's product is the list shown
    assert "Added 1 x" in added and title in added


def test_a_price_drop_alert_fires_with_the_old_and_new_price(shop: Shop) -> None:
    customer = "alert-saver-e2e"
    shop.set_marketing_consent(customer, True)
    chat = shop.chat(customer, f"web-customer-{customer}")
    product = focus(chat, shop.catalog, skip=set())
    old, title = float(product["price"]), product["title"]
    assert f"Okay, I'll tell you here if {title} gets cheaper than ${old:,.2f}." in texts(
        chat.say("let me know if it gets cheaper"))

    shop.upsert(product["id"], price=old + 10)  # dearer: nothing to tell
    assert not [label for label in shop.run_reminders() if label.startswith(customer)]
    cheaper = round(old * 0.8, 2)
    shop.upsert(product["id"], price=cheaper)
    assert [label for label in shop.run_reminders() if label.startswith(customer)] == [
        f"{customer} (alerts: price drop {product['id']}; gateway)"]

    fired = [text for text in bot_texts(shop.tracker(chat.sender)) if text.startswith("Good news")]
    assert len(fired) == 1 and f"- {title} is now ${cheaper:,.2f} (it was ${old:,.2f} when you asked)" in fired[0]
    assert "Product alerts: 0 active" in texts(chat.say("what do you know about me"))


def test_alerts_are_listed_and_cancelled_by_chat_and_guests_are_asked_to_sign_in(shop: Shop, sender: str) -> None:
    guest = shop.chat(None, sender)
    focus(guest, shop.catalog, skip=set())
    assert "only set alerts for a signed-in customer" in texts(guest.say("let me know if it gets cheaper"))

    customer = "alert-quitter-e2e"
    chat = shop.chat(customer, f"web-customer-{customer}")
    first = focus(chat, shop.catalog, skip=set())
    assert "gets cheaper than" in texts(chat.say("let me know if it gets cheaper"))
    second = focus(chat, shop.catalog, skip={first["id"]})
    assert "gets cheaper than" in texts(chat.say("tell me if the price drops"))
    listed = texts(chat.say("what alerts do I have"))
    assert "You have 2 alerts:" in listed and first["title"] in listed and second["title"] in listed

    others = set(second["title"].lower().split())
    named = " ".join([word for word in first["title"].lower().split() if word not in others][:3])
    assert named, "two products with the same words in their titles"
    stopped = texts(chat.say(f"stop the alert for the {named}"))
    assert stopped.startswith("Done, I cancelled 1 alert") and first["title"] in stopped
    assert texts(chat.say("cancel my alerts")).startswith(f"Done, I cancelled 1 alert ({second['title']})")
    assert "You have no alerts." in texts(chat.say("what alerts do I have"))
    assert {status for *_, status in shop.alert_statuses(customer)} == {"cancelled"}
