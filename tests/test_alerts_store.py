"""Product alerts in the store, on SQLite and PostgreSQL: when one is due, the runner's pass
(consent, quiet hours, once only, retries), and erasure with the customer's data.

The runner talks to a Rasa port where nothing listens, so every send fails honestly and is
logged; the one real delivery is in ``tests/test_alerts_conversation.py``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from actions.alerts import refusal
from assistant.alerts import BACK_IN_STOCK, PRICE_DROP, is_due
from assistant.launcher import free_port
from assistant.nudge import run_nudges
from assistant.settings import Settings, load_settings
from assistant.store.db import UnitOfWork
from assistant.store.models import Product, ProductAlert
from assistant.store.repositories.alerts import MAX_ATTEMPTS
from tests.store_fixtures import engine, postgres_url, session_factory, store_url  # noqa: F401  (fixtures)

NOON = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)


def product(stock: dict[str, int] | None, price: float | None = 50.0, **payload: object) -> Product:
    record = {"id": "P1", "title": "Trail Boot", "price": price, "currency": "USD", **payload}
    if stock is not None:
        record["stock"] = stock
    return Product(id="P1", title="Trail Boot", price=price, currency="USD", payload=record)


def alert(kind: str, reference_price: float | None = 50.0, currency: str = "USD") -> ProductAlert:
    return ProductAlert(kind=kind, reference_price=reference_price, currency=currency)


@pytest.mark.parametrize(("stock", "extra", "due"), [
    ({"online": 0, "store-1": 0}, {}, False),
    ({"online": 0, "store-1": 3}, {}, True),
    ({"online": 5}, {"available": False}, False),  # withdrawn from the catalog
    (None, {}, False),  # a bare export: no stock data, never "back"
])
def test_back_in_stock_is_due_when_listed_and_on_hand(stock: dict[str, int] | None, extra: dict[str, object], due: bool) -> None:
    assert is_due(alert(BACK_IN_STOCK), product(stock, **extra)) is due


@pytest.mark.parametrize(("price", "currency", "due"), [
    (49.99, "USD", True), (50.0, "USD", False), (60.0, "USD", False), (None, "USD", False), (40.0, "EUR", False),
])
def test_price_drop_is_due_below_the_price_when_set(price: float | None, currency: str, due: bool) -> None:
    """``currency`` is the alert's; the product is now priced in USD (a currency change is no drop)."""
    assert is_due(alert(PRICE_DROP, currency=currency), product({"online": 0}, price=price)) is due


def test_alerts_that_make_no_sense_are_refused_with_the_reason() -> None:
    assert "in stock now" in (refusal(BACK_IN_STOCK, product({"online": 4})) or "")
    assert "doesn't share stock information" in (refusal(BACK_IN_STOCK, product(None)) or "")
    assert refusal(BACK_IN_STOCK, product({"online": 0})) is None
    assert "no price" in (refusal(PRICE_DROP, product({"online": 0}, price=None)) or "")
    assert refusal(PRICE_DROP, product({"online": 4})) is None  # in stock and priced: watch the price


@pytest.fixture
def settings(store_url: str, tmp_path: Path) -> Settings:  # noqa: F811
    return load_settings(tmp_path, env={
        "SHOP_DATABASE_URL": store_url, "SHOP_RASA_URL": f"http://127.0.0.1:{free_port()}",
        "SHOP_EMBEDDING_MODEL": "unused", "SHOP_STORE_SECRET": "s", "RASA_AUTH_TOKEN": "t",
        "ACTION_SERVER_TOKEN": "a", "GATEWAY_TOKEN": "g", "SHOP_WEB_SECRET": "w", "SHOP_STOREFRONT_KEY": "k",
        "SHOP_QUIET_HOURS": "21:00-09:00", "SHOP_TIME_ZONE": "UTC",
    })


CATALOG = {
    "SOLD-OUT": {"id": "SOLD-OUT", "title": "Summit Tent", "price": 300.0, "currency": "USD", "stock": {"online": 0}},
    "PRICEY": {"id": "PRICEY", "title": "Down Jacket", "price": 200.0, "currency": "USD", "stock": {"online": 9}},
}


@pytest.fixture
def alerts(session_factory: sessionmaker[Session]) -> dict[str, int]:  # noqa: F811
    """Three shoppers with alerts: two agreed to marketing (one in New York), one did not."""
    with UnitOfWork(session_factory) as uow:
        uow.products.mirror(CATALOG.values())
        people = {"yes": (True, None), "no": (False, None), "ny": (True, "America/New_York")}
        ids = {}
        for customer_id, (consent, zone) in people.items():
            uow.customers.upsert(customer_id, marketing_consent=consent, last_sender_id=f"web-customer-{customer_id}",
                                 last_channel="gateway", time_zone=zone)
            ids[f"{customer_id}-stock"] = uow.alerts.add(customer_id, uow.alerts.product("SOLD-OUT"), BACK_IN_STOCK).id
        ids["yes-price"] = uow.alerts.add("yes", uow.alerts.product("PRICEY"), PRICE_DROP).id
        uow.commit()
    return ids


def change(session_factory: sessionmaker[Session], product_id: str, **fields: object) -> None:  # noqa: F811
    """What ``catalog upsert`` does to the mirror: the product's record replaced."""
    with UnitOfWork(session_factory) as uow:
        uow.products.mirror([{**CATALOG[product_id], **fields}])
        uow.commit()


def statuses(session_factory: sessionmaker[Session]) -> dict[int, tuple[str, int]]:  # noqa: F811
    with session_factory() as session:
        return {a.id: (a.status, a.attempts) for a in session.scalars(select(ProductAlert))}


def who(labels: list[str]) -> list[str]:
    return [label.split(" ")[0] for label in labels]


def test_nothing_is_due_until_the_catalog_changes(settings: Settings, alerts: dict[str, int]) -> None:
    report = run_nudges(settings, now=NOON, dry_run=True)
    assert report.planned == [] and report.quiet == []


def test_due_alerts_respect_consent_and_quiet_hours(
    settings: Settings, alerts: dict[str, int], session_factory: sessionmaker[Session]  # noqa: F811
) -> None:
    change(session_factory, "SOLD-OUT", stock={"online": 4})
    change(session_factory, "PRICEY", price=180.0)
    report = run_nudges(settings, now=NOON, dry_run=True)
    assert who(report.planned) == ["yes"] and "back in stock SOLD-OUT, price drop PRICEY" in report.planned[0]
    assert who(report.quiet) == ["ny"]  # 07:00 in New York
    evening = run_nudges(settings, now=NOON + timedelta(hours=10), dry_run=True)  # 22:00 UTC, 17:00 in New York
    assert who(evening.planned) == ["ny"] and who(evening.quiet) == ["yes"]
    assert all(status == ("active", 0) for status in statuses(session_factory).values())  # a dry run sends nothing


def test_a_withdrawn_product_fires_nothing(
    settings: Settings, alerts: dict[str, int], session_factory: sessionmaker[Session]  # noqa: F811
) -> None:
    change(session_factory, "SOLD-OUT", stock={"online": 4})
    with UnitOfWork(session_factory) as uow:
        uow.products.withdraw(["SOLD-OUT"])
        uow.commit()
    assert run_nudges(settings, now=NOON, dry_run=True).planned == []


def test_an_undelivered_alert_is_retried_then_given_up(
    settings: Settings, alerts: dict[str, int], session_factory: sessionmaker[Session]  # noqa: F811
) -> None:
    change(session_factory, "SOLD-OUT", stock={"online": 4})
    for attempt in range(1, MAX_ATTEMPTS + 1):
        report = run_nudges(settings, now=NOON)  # Rasa is not running: each attempt fails
        assert who(report.failed) == ["yes"] and report.sent == []
        expected = "failed" if attempt == MAX_ATTEMPTS else "active"
        assert statuses(session_factory)[alerts["yes-stock"]] == (expected, attempt)
    assert run_nudges(settings, now=NOON).failed == []
    with session_factory() as session:
        given_up = session.get(ProductAlert, alerts["yes-stock"])
        assert given_up is not None and given_up.detail is not None
        assert given_up.detail.startswith("POST /conversations/web-customer-yes/trigger_intent")
    assert statuses(session_factory)[alerts["no-stock"]] == ("active", 0)  # no consent: never tried


def test_a_claim_is_held_once_and_shown_once(
    alerts: dict[str, int], session_factory: sessionmaker[Session]  # noqa: F811
) -> None:
    stock_alert = alerts["yes-stock"]
    with UnitOfWork(session_factory) as uow:
        assert uow.alerts.claim([stock_alert]) == [stock_alert]
        uow.commit()
    with UnitOfWork(session_factory) as uow:
        assert uow.alerts.claim([stock_alert]) == []  # a second runner gets nothing
        [sending] = uow.alerts.sending("yes")
        assert uow.alerts.mark_sent(sending, "gateway") is True
        assert uow.alerts.mark_sent(sending, "gateway") is False  # a replayed /alert_fired shows nothing again
        assert uow.alerts.release([stock_alert], "late") == 0  # delivered: the runner leaves it alone
        uow.commit()
    assert statuses(session_factory)[stock_alert] == ("sent", 1)


def test_cancel_only_touches_active_alerts(
    alerts: dict[str, int], session_factory: sessionmaker[Session]  # noqa: F811
) -> None:
    with UnitOfWork(session_factory) as uow:
        active = uow.alerts.active("yes")
        assert [a.product.title for a in active] == ["Summit Tent", "Down Jacket"]
        assert uow.alerts.cancel(active) == 2 and uow.alerts.cancel(active) == 0
        uow.commit()
    with UnitOfWork(session_factory) as uow:
        assert uow.alerts.active("yes") == [] and uow.alerts.count_active("ny") == 1


def test_erasure_deletes_the_alerts_and_the_summary_counts_them(
    alerts: dict[str, int], session_factory: sessionmaker[Session]  # noqa: F811
) -> None:
    with UnitOfWork(session_factory) as uow:
        summary = uow.privacy.summary("yes")
        assert summary is not None and summary.active_alerts == 2
        report = uow.privacy.erase("yes", {"web-customer-yes"})
        uow.commit()
    assert report.alerts_deleted == 2
    with session_factory() as session:
        left = session.scalars(select(ProductAlert.customer_id)).all()
    assert sorted(left) == ["no", "ny"]
