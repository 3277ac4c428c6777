"""History import: the demo generator's files and generic order lines, idempotent."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from assistant.store.db import UnitOfWork
from assistant.store.history_import import import_history
from assistant.store.models import Customer, Event, Order, Product
from tests.store_fixtures import (  # noqa: F401  (fixtures)
    catalog_file,
    count_rows,
    engine,
    postgres_url,
    products,
    session_factory,
    store_url,
    write_jsonl,
)

TABLES = ("customers", "orders", "order_items", "shipments", "refunds", "events")


def table_counts(factory: sessionmaker[Session]) -> dict[str, int]:
    return {table: count_rows(factory, table) for table in TABLES}


@pytest.fixture
def history_dir(tmp_path: Path) -> Path:
    """A small history in the demo generator's format."""
    directory = tmp_path / "history"
    directory.mkdir()
    write_jsonl(directory / "customers.jsonl", [
        {"id": "C00001", "name": "Ada Lovelace", "email": "Ada@Example.com", "created_at": "2023-01-02T10:00:00Z",
         "city": "London", "loyalty_tier": "gold", "marketing_consent": True},
        {"id": "C00002", "name": "Bob Stone", "email": "bob@example.com", "created_at": "2023-03-04T10:00:00+02:00",
         "city": "Leeds", "loyalty_tier": "basic", "marketing_consent": False},
    ])
    write_jsonl(directory / "orders.jsonl", [
        {"order_number": "SA-000001", "customer_id": "C00001", "email": "ada@example.com", "status": "delivered",
         "placed_at": "2024-01-05T09:30:00Z", "total": 36.0, "currency": "USD", "payment_method": "card",
         "items": [{"product_id": "P00001", "quantity": 1, "unit_price": 11.0},
                   {"product_id": "P00002", "quantity": 2, "unit_price": 12.5}],
         "shipment": {"carrier": "UPS", "tracking_number": "1Z1", "status": "delivered",
                      "shipped_at": "2024-01-06T09:00:00Z", "estimated_delivery": "2024-01-09T00:00:00Z",
                      "delivered_at": "2024-01-08T15:00:00Z", "delay_reason": None},
         "refund": {"status": "refunded", "amount": 11.0, "refunded_at": "2024-01-20T10:00:00Z"}},
        {"order_number": "SA-000002", "customer_id": "C00002", "email": "bob@example.com", "status": "delayed",
         "placed_at": "2024-02-01T12:00:00Z", "total": 13.0, "currency": "USD", "payment_method": "paypal",
         "items": [{"product_id": "P00003", "quantity": 1, "unit_price": 13.0},
                   {"product_id": "GONE-1", "quantity": 1, "unit_price": 5.0}],
         "shipment": {"carrier": "DHL", "tracking_number": "JD2", "status": "delayed",
                      "shipped_at": "2024-02-02T12:00:00Z", "estimated_delivery": "2024-02-06T00:00:00Z",
                      "delivered_at": None, "delay_reason": "weather"},
         "refund": None},
        {"order_number": "SA-000003", "customer_id": "C00003", "email": "new@example.com", "status": "placed",
         "placed_at": "2024-03-01T08:00:00Z", "total": None, "currency": "USD", "payment_method": "card",
         "items": [{"product_id": "P00004", "quantity": 1, "unit_price": 14.0}], "shipment": None, "refund": None},
        {"order_number": "SA-000004", "customer_id": "C00001", "status": "paid", "placed_at": "yesterday",
         "items": []},
    ])
    write_jsonl(directory / "events.jsonl", [
        {"customer_id": "C00001", "type": "view", "product_id": "P00005", "query": None, "at": "2024-01-04T09:00:00Z"},
        {"customer_id": "C00001", "type": "search", "product_id": None, "query": "trail shoes",
         "at": "2024-01-04T08:59:00Z"},
        {"customer_id": "C00004", "type": "add_to_cart", "product_id": "P00006", "query": None,
         "at": "2024-01-04T09:01:00Z"},
        {"customer_id": "C00002", "type": "view", "product_id": "NOPE", "query": None, "at": "2024-01-04T09:02:00Z"},
        {"customer_id": "C00002", "type": "teleport", "product_id": None, "query": None, "at": "2024-01-04T09:03:00Z"},
    ])
    return directory


def test_generator_history_imports_once(
    store_url: str, session_factory: sessionmaker[Session], products: list[str], history_dir: Path  # noqa: F811
) -> None:
    first = import_history(store_url, history_dir)
    expected = {"customers": 4, "orders": 3, "order_items": 4, "shipments": 2, "refunds": 1, "events": 3}
    assert table_counts(session_factory) == expected
    assert first.added == expected
    assert first.read == {"customers": 2, "orders": 4, "events": 5}
    assert first.skipped_unknown_product == 2 and first.unknown_product_ids == {"GONE-1", "NOPE"}
    assert first.skipped_invalid == 2
    assert any("orders.jsonl:4" in problem and "yesterday" in problem for problem in first.problems)
    summary = first.summary()
    assert "GONE-1" in summary and "not in the catalog" in summary

    second = import_history(store_url, history_dir)
    assert table_counts(session_factory) == expected
    assert second.added == dict.fromkeys(expected, 0)
    assert second.read == first.read

    with UnitOfWork(session_factory) as uow:
        ada = uow.customers.get("C00001")
        assert ada is not None and (ada.email, ada.loyalty_tier, ada.marketing_consent) == ("ada@example.com", "gold", True)
        first_sight = uow.customers.get("C00003")
        assert first_sight is not None and first_sight.email == "new@example.com" and first_sight.name is None
        order = uow.orders.find_for_guest("SA-000001", "ADA@example.com")
        assert order is not None
        assert sorted((i.product_id, i.quantity, i.unit_price) for i in order.items) == [
            ("P00001", 1, 11.0), ("P00002", 2, 12.5)
        ]
        assert order.shipment is not None and order.shipment.delivered_at is not None
        assert order.refund is not None and order.refund.amount == 11.0
        delayed = uow.orders.by_number("SA-000002")
        assert delayed is not None and delayed.shipment is not None and delayed.shipment.delay_reason == "weather"
        assert [(e.type, e.query) for e in uow.events.recent_for_customer("C00001")] == [
            ("view", None), ("search", "trail shoes")
        ]


def test_generic_csv_order_lines(
    store_url: str, session_factory: sessionmaker[Session], products: list[str], tmp_path: Path  # noqa: F811
) -> None:
    csv_file = tmp_path / "orders.csv"
    csv_file.write_text(
        "order_id,customer_id,product_id,quantity,ordered_at,price,email,status\n"
        "1001,shop-7,P00001,1,2024-04-01T10:00:00,11.00,Seven@Example.com,\n"
        "1001,shop-7,P00002,2,2024-04-01T10:00:00,12.50,seven@example.com,\n"
        "1002,shop-8,P00003,1,2024-04-03,,,shipped\n"
        "1001,shop-7,P00001,1,2024-04-01T10:00:00,11.00,seven@example.com,\n"
        "1003,shop-8,UNKNOWN,1,2024-04-04,9.99,,\n"
        "1004,shop-9,P00004,zero,2024-04-05,9.99,,\n",
        encoding="utf-8",
    )
    report = import_history(store_url, csv_file)
    expected = {"customers": 2, "orders": 3, "order_items": 3, "shipments": 0, "refunds": 0, "events": 0}
    assert table_counts(session_factory) == expected
    assert report.read == {"order_lines": 6}
    assert report.skipped_unknown_product == 1 and report.skipped_invalid == 1

    again = import_history(store_url, csv_file)
    assert table_counts(session_factory) == expected
    assert again.added == dict.fromkeys(expected, 0)

    with UnitOfWork(session_factory) as uow:
        order = uow.orders.find_for_guest("1001", "seven@example.com")
        assert order is not None and order.status == "delivered" and order.total == 47.0
        assert sorted((i.product_id, i.quantity) for i in order.items) == [("P00001", 2), ("P00002", 2)]
        other = uow.orders.by_number("1002")
        assert other is not None and other.status == "shipped" and other.total is None
        assert uow.session.scalars(select(Customer.id).order_by(Customer.id)).all() == ["shop-7", "shop-8"]


def test_jsonl_order_lines_and_events_file(
    store_url: str, session_factory: sessionmaker[Session], products: list[str], tmp_path: Path  # noqa: F811
) -> None:
    lines = write_jsonl(tmp_path / "lines.jsonl", [
        {"order_id": "A-1", "customer_id": "c1", "product_id": "P00007", "quantity": 3, "ordered_at": 1714550400},
    ])
    events = write_jsonl(tmp_path / "clicks.jsonl", [
        {"customer_id": "c2", "type": "view", "product_id": "P00007", "at": "2024-05-01T00:00:00Z"},
        {"customer_id": "c2", "type": "view", "product_id": "P00007", "at": "2024-05-01T00:00:00Z"},
    ])
    import_history(store_url, lines)
    import_history(store_url, events)
    with UnitOfWork(session_factory) as uow:
        order = uow.session.scalars(select(Order)).one()
        assert (order.order_number, order.customer_id, order.placed_at.isoformat()) == (
            "A-1", "c1", "2024-05-01T08:00:00+00:00"
        )
        assert uow.session.scalars(select(Event.customer_id)).all() == ["c2"]


def test_unrecognised_file_is_rejected_clearly(store_url: str, tmp_path: Path) -> None:  # noqa: F811
    odd = write_jsonl(tmp_path / "odd.jsonl", [{"sku": "X", "qty": 1}])
    with pytest.raises(ValueError, match="order lines need order_id, customer_id, product_id, quantity, ordered_at"):
        import_history(store_url, odd)
    with pytest.raises(FileNotFoundError):
        import_history(store_url, tmp_path / "empty-dir-that-is-missing")


def test_product_sync_updates_the_mirror(
    session_factory: sessionmaker[Session], catalog_file: Path, products: list[str]  # noqa: F811
) -> None:
    changed = catalog_file.read_text().replace('"price": 11.0', '"price": 9.5')
    catalog_file.write_text(changed)
    with UnitOfWork(session_factory) as uow:
        assert uow.products.mirror_catalog(catalog_file) == len(products)
        uow.commit()
    assert count_rows(session_factory, "products") == len(products)
    with UnitOfWork(session_factory) as uow:
        product = uow.session.get(Product, "P00001")
        assert product is not None and product.price == 9.5 and isinstance(product.price, float)
        assert product.payload["image_url"] == "https://img.example/P00001.jpg"
