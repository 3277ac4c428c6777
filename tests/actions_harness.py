"""What the action tests share: a real small store and index, tracker fixtures, an action runner.

The store is built once per test session from ``tests/data/catalog_small.jsonl``: the
catalog is imported and indexed with the real embedding model and FAISS, and a migrated
SQLite customer store is seeded with a few customers and orders (below). Tests that change
the store use their own sender ids, customers or orders, so they do not depend on order.
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.context import use_settings
from assistant.identity import sign_customer_token
from assistant.settings import PROJECT_ROOT, Settings, load_settings
from assistant.store.db import make_engine, make_session_factory, migrate
from assistant.store.models import Customer, Order, OrderItem, Refund, Shipment
from assistant.store.repositories.products import ProductRepository
from catalog_index.build import build_index
from catalog_index.importer import import_catalog

TESTS = Path(__file__).resolve().parent
TRACKERS = TESTS / "fixtures" / "trackers"


def load_domain(directory: Path) -> dict[str, Any]:
    """Rasa's domain directory merged the way Rasa merges it: lists joined, mappings united."""
    merged: dict[str, Any] = {}
    for path in sorted(directory.glob("*.yml")):
        for key, value in (yaml.safe_load(path.read_text()) or {}).items():
            if isinstance(value, list):
                merged.setdefault(key, []).extend(value)
            elif isinstance(value, dict):
                merged.setdefault(key, {}).update(value)
            else:
                merged[key] = value
    return merged


DOMAIN = load_domain(PROJECT_ROOT / "domain")
T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
SECRETS = {
    "SHOP_STORE_SECRET": "test-store-secret", "RASA_AUTH_TOKEN": "test-rasa-token",
    "ACTION_SERVER_TOKEN": "test-action-token", "GATEWAY_TOKEN": "test-gateway-token", "SHOP_WEB_SECRET": "test-web",
}

# customer -> (email, personalization consent, [(order number, status, days after T0, product ids)])
SEED: dict[str, tuple[str, bool | None, list[tuple[str, str, int, list[str]]]]] = {
    "alice": ("alice@example.com", None, [
        ("SA-1001", "shipped", 0, ["B001"]), ("SA-1002", "paid", 10, ["S001"]),
        ("SA-1003", "delayed", 5, ["T001"]), ("SA-1004", "returned", -30, ["H002"]),
    ]),
    "bob": ("bob@example.com", None, [("SA-2001", "delivered", 1, ["B001", "T007", "K001"]), ("SA-2002", "paid", 2, ["B001", "J002"])]),
    "carol": ("carol@example.com", False, [("SA-3001", "delivered", 3, ["B001", "T007"]), ("SA-3002", "placed", 4, ["J004"])]),
    "erin": ("erin@example.com", None, [("SA-4001", "delivered", 3, ["T007"])]),
}


def _seed(settings: Settings) -> None:
    engine = make_engine(settings.database_url)
    try:
        with make_session_factory(engine)() as session:
            ProductRepository(session).mirror_catalog(settings.catalog_path)
            for customer_id, (email, consent, orders) in SEED.items():
                session.add(Customer(id=customer_id, email=email, name=customer_id.title(), personalization_consent=consent))
                for number, status, days, product_ids in orders:
                    placed = T0 + timedelta(days=days)
                    order = Order(order_number=number, customer_id=customer_id, email=email, status=status,
                                  placed_at=placed, total=100.0, currency="USD", payment_method="visa")
                    order.items = [OrderItem(product_id=pid, quantity=1, unit_price=100.0 / len(product_ids)) for pid in product_ids]
                    if status in ("shipped", "delayed", "delivered", "returned"):
                        order.shipment = Shipment(
                            carrier="UPS", tracking_number=f"1Z-{number}", status=status, shipped_at=placed + timedelta(days=1),
                            estimated_delivery=placed + timedelta(days=5),
                            delay_reason="Severe weather is slowing deliveries." if status == "delayed" else None,
                        )
                    if status == "returned":
                        order.refund = Refund(status="refunded", amount=100.0, refunded_at=placed + timedelta(days=20))
                    session.add(order)
            session.commit()
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def action_store(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings of the session's test store; the action server's resources point at it."""
    root = tmp_path_factory.mktemp("action-store")
    env = {**SECRETS, "SHOP_POLICY_FILE": str(PROJECT_ROOT / "store_policy.yml")}
    settings = load_settings(root, env=env)
    import_catalog(TESTS / "data" / "catalog_small.jsonl", settings.catalog_path)
    build_index(settings.catalog_path, settings.index_dir, settings.embedding_model, progress=False)
    migrate(settings.database_url)
    _seed(settings)
    use_settings(settings)
    return settings


def tracker(name: str, customer: str | None = None, settings: Settings | None = None, **changes: Any) -> Tracker:
    """A tracker fixture; ``changes`` replace slots (``slots=``), the sender (``sender_id=``) or message fields.

    ``customer`` signs a customer token into the message metadata, as the web gateway does.
    """
    state = copy.deepcopy(json.loads((TRACKERS / f"{name}.json").read_text()))
    state["slots"].update(changes.pop("slots", {}))
    state["sender_id"] = changes.pop("sender_id", state["sender_id"])
    message = state["latest_message"]
    if "intent" in changes:
        message["intent"] = {"name": changes.pop("intent"), "confidence": 0.95}
    message.update(changes)
    if customer is not None:
        assert settings is not None, "signing a customer token needs the store's settings"
        message["metadata"] = {"customer_token": sign_customer_token(customer, settings.store_secret)}
    return Tracker.from_dict(state)


async def run(action: Action, tracker: Tracker) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Run one action as the action server does; returns (events, dispatched messages)."""
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, tracker, DOMAIN)
    return events, dispatcher.messages


def slots(events: list[dict[str, Any]]) -> dict[str, Any]:
    """The slot events as ``{name: value}`` (the last value wins)."""
    return {event["name"]: event["value"] for event in events if event["event"] == "slot"}


def texts(messages: list[dict[str, Any]]) -> str:
    return "\n".join(message["text"] for message in messages if message.get("text"))


def payloads(messages: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [message["custom"] for message in messages if message.get("custom", {}).get("type") == kind]
