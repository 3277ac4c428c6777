"""Fixtures for the customer-store tests: real SQLite files and a real PostgreSQL database.

Test modules import the fixtures they use from here.  PostgreSQL comes from
``SHOP_TEST_POSTGRES_URL`` (default: the local trust-auth server); one fresh database
named ``shop_test_<random>`` is created per test session, migrated, emptied between
tests, and dropped when the session ends.  Without a reachable server, PostgreSQL cases
are skipped with a message saying so.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from assistant.store.db import Store, make_engine, make_session_factory, migrate, normalize_url
from assistant.store.models import Base, Customer, Order, OrderItem, Shipment
from assistant.store.repositories.products import ProductRepository

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
BACKENDS = ["sqlite", "postgresql"]
T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)

_postgres: dict[str, str] = {}


def _admin(conninfo: str, statement: sql.Composable) -> None:
    with psycopg.connect(conninfo, autocommit=True, connect_timeout=5) as connection:
        connection.execute(statement)


def _create_postgres_database(config: pytest.Config) -> str:
    """Create and migrate this session's database; its drop is registered with pytest."""
    admin_url = normalize_url(os.environ.get("SHOP_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL))
    conninfo = admin_url.set(drivername="postgresql").render_as_string(hide_password=False)
    name = f"shop_test_{uuid.uuid4().hex[:12]}"
    try:
        _admin(conninfo, sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    except psycopg.OperationalError as error:
        raise ConnectionError(f"PostgreSQL is not reachable at {admin_url.render_as_string()}: {error}") from None
    config.add_cleanup(
        lambda: _admin(conninfo, sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
    )
    url = admin_url.set(database=name).render_as_string(hide_password=False)
    migrate(url)
    return url


@pytest.fixture(scope="session")
def postgres_url(pytestconfig: pytest.Config) -> str:
    """URL of this test session's own migrated PostgreSQL database (created once, dropped at the end)."""
    if "url" not in _postgres and "error" not in _postgres:
        try:
            _postgres["url"] = _create_postgres_database(pytestconfig)
        except ConnectionError as error:
            _postgres["error"] = str(error)
    if "error" in _postgres:
        pytest.skip(f"{_postgres['error']} (set SHOP_TEST_POSTGRES_URL to test on PostgreSQL)")
    return _postgres["url"]


def _empty_store(url: str) -> None:
    """Delete every row (children first) so each test starts from an empty, migrated schema."""
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            for table in reversed(Base.metadata.sorted_tables):
                connection.execute(table.delete())
    finally:
        engine.dispose()


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty, migrated customer store on each backend."""
    if request.param == "postgresql":
        url = request.getfixturevalue("postgres_url")
        _empty_store(url)
        return url
    url = f"sqlite:///{tmp_path / 'customers.db'}"
    migrate(url)
    return url


@pytest.fixture
def engine(store_url: str) -> Iterator[Engine]:
    engine = make_engine(store_url)
    yield engine
    engine.dispose()


@pytest.fixture
def session_factory(engine: Engine) -> sessionmaker[Session]:
    return make_session_factory(engine)


@pytest.fixture
def customer_store(engine: Engine) -> Store:
    """The migrated store as the application opens it (on the same engine as ``session_factory``)."""
    return Store(engine)


def count_rows(factory: sessionmaker[Session], table: str) -> int:
    """Rows in ``table`` as seen by a fresh session (what another process would see)."""
    with factory() as session:
        return int(session.scalar(select(func.count()).select_from(Base.metadata.tables[table])) or 0)


def write_catalog(path: Path, count: int = 20) -> Path:
    """A small normalized catalog (``catalog.jsonl``): products P00001..P000NN."""
    with path.open("w", encoding="utf-8") as out:
        for number in range(1, count + 1):
            product = {
                "id": f"P{number:05d}", "title": f"Trail shoe {number}", "brand": "Acme",
                "category": "shoes", "subcategory": "running shoes", "price": 10.0 + number,
                "currency": "USD", "image_url": f"https://img.example/P{number:05d}.jpg",
            }
            out.write(json.dumps(product) + "\n")
    return path


@pytest.fixture
def catalog_file(tmp_path: Path) -> Path:
    return write_catalog(tmp_path / "catalog.jsonl")


@pytest.fixture
def products(session_factory: sessionmaker[Session], catalog_file: Path) -> list[str]:
    """The sample catalog mirrored into the store; returns the product ids."""
    with session_factory() as session:
        ProductRepository(session).mirror_catalog(catalog_file)
        session.commit()
    return [f"P{number:05d}" for number in range(1, 21)]


def add_order(
    session: Session, number: str, customer_id: str, email: str, status: str,
    placed_at: datetime = T0, product_id: str = "P00001", shipped: bool = False,
) -> Order:
    """An order with one line, its customer created if needed (the session is not committed)."""
    if session.get(Customer, customer_id) is None:
        session.add(Customer(id=customer_id, email=email, name=customer_id, created_at=T0 - timedelta(days=30)))
    order = Order(order_number=number, customer_id=customer_id, email=email, status=status,
                  placed_at=placed_at, total=12.5, currency="USD", payment_method="card")
    order.items.append(OrderItem(product_id=product_id, quantity=1, unit_price=12.5))
    if shipped:
        order.shipment = Shipment(carrier="UPS", tracking_number="1Z999", status="in_transit",
                                  shipped_at=placed_at + timedelta(days=1))
    session.add(order)
    session.flush()
    return order


def write_jsonl(path: Path, records: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(record) + "\n" for record in records), encoding="utf-8")
    return path
