"""Migrations build the schema the models describe, on an empty SQLite file and on PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from assistant.store.db import alembic_config, make_engine, migrate, normalize_url
from assistant.store.models import Base
from tests.store_fixtures import postgres_url  # noqa: F401  (fixture)

EXPECTED_TABLES = {
    "customers", "products", "orders", "order_items", "shipments", "refunds", "events",
    "carts", "cart_items", "handoff_requests", "audit_log", "alembic_version", "agents",
    "promotions", "cart_nudges", "product_alerts", "channel_links", "backend_outbox", "return_requests",
    "shopper_notices",
    "sync_cursors", "platform_orders",  # platform sync (0008)
    "analytics_events", "analytics_senders", "csat_ratings",  # issue #14
}


def assert_schema_matches_models(url: str) -> None:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert context.get_current_revision() == ScriptDirectory.from_config(alembic_config()).get_current_head()
            assert compare_metadata(context, Base.metadata) == []
            assert set(inspect(connection).get_table_names()) == EXPECTED_TABLES
            indexes = {index["name"] for index in inspect(connection).get_indexes("orders")}
            assert "ix_orders_customer_id_placed_at" in indexes
            assert "ix_events_customer_id_at" in {index["name"] for index in inspect(connection).get_indexes("events")}
    finally:
        engine.dispose()


def test_migrations_on_an_empty_sqlite_file(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'nested' / 'customers.db'}"
    migrate(url)
    migrate(url)  # at head already: nothing to do, no error
    assert_schema_matches_models(url)


def test_sqlite_connections_enforce_foreign_keys_and_use_wal(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'customers.db'}")
    try:
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_migrations_on_postgresql(postgres_url: str) -> None:  # noqa: F811
    migrate(postgres_url)
    assert_schema_matches_models(postgres_url)


@pytest.mark.parametrize(
    ("given", "driver"),
    [
        ("postgresql://u:p@db:5432/shop", "postgresql+psycopg"),
        ("postgres://u@db/shop", "postgresql+psycopg"),
        ("postgresql+psycopg://u@db/shop", "postgresql+psycopg"),
        ("sqlite:///var/demo/customers.db", "sqlite"),
    ],
)
def test_postgresql_urls_use_psycopg_3(given: str, driver: str) -> None:
    assert normalize_url(given).drivername == driver
