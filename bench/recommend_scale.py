"""Latency of a recommendation and of the search re-rank on a large generated store.

A scratch store (a SQLite file, and a scratch PostgreSQL database) is filled with
``customers`` customers, ``events`` events and about ``events / 10`` orders of one to
three lines, products drawn with a long-tailed popularity.  One customer (who said yes to
personalization) gets 1,000 events and 60 orders: the long history the figure is for.
Rows go in by ``executemany`` (SQLite, synchronous off) and ``COPY`` (PostgreSQL); the
migrations' own indexes are the ones measured.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
from psycopg import sql
from sqlalchemy import make_url

from assistant.recommend import Recommender, Request
from assistant.recommend.rerank import customer_affinities, rerank
from assistant.store.db import open_store
from bench.common import latency_summary
from catalog_index.search import CatalogSearcher, Hit

NOW = datetime(2026, 11, 1, 12, tzinfo=UTC)
HEAVY = "L0000000"
HEAVY_EVENTS, HEAVY_ORDERS = 1_000, 60
CHUNK = 200_000
SAMPLES = 40
CREATED = "2024-01-01 00:00:00.000000"
EVENT_TYPES = np.array(["view", "add_to_cart", "search", "remove_from_cart"])
EVENT_WEIGHTS = (0.7, 0.15, 0.1, 0.05)


def _stamp(seconds_ago: np.ndarray) -> list[str]:
    """UTC timestamps as the store's SQLite rows hold them (and PostgreSQL accepts), vectorized."""
    moments = np.datetime64(NOW.replace(tzinfo=None), "us") - (seconds_ago * 1e6).astype("timedelta64[us]")
    return np.char.replace(np.datetime_as_string(moments, unit="us"), "T", " ").tolist()


def _customers(numbers: np.ndarray) -> list[str]:
    return np.char.add("L", np.char.zfill(numbers.astype(str), 7)).tolist()


class Rows:
    """The generated rows, produced chunk by chunk so 5M events never sit in memory as tuples."""

    def __init__(self, product_ids: list[str], customers: int, events: int, seed: int = 11) -> None:
        self.products = np.array(product_ids)
        weights = 1.0 / np.arange(1, len(product_ids) + 1) ** 0.9
        self.weights = weights / weights.sum()
        self.customers, self.events, self.orders = customers, events, max(events // 10, HEAVY_ORDERS)
        self.rng = np.random.default_rng(seed)

    def customer_rows(self) -> Iterator[tuple[Any, ...]]:
        for n in range(self.customers):
            yield (f"L{n:07d}", True if n == 0 else None, False, CREATED)  # only the heavy customer said yes

    def _product(self, size: int) -> np.ndarray:
        return self.products[self.rng.choice(len(self.products), size=size, p=self.weights)]

    def order_chunks(self) -> Iterator[tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]]:
        """``(orders, lines)`` chunks; the first HEAVY_ORDERS orders are the heavy customer's."""
        for start in range(0, self.orders, CHUNK):
            size = min(CHUNK, self.orders - start)
            ids = np.arange(start + 1, start + size + 1)
            owners = self.rng.integers(1, self.customers, size)
            owners[ids <= HEAVY_ORDERS] = 0
            placed = _stamp(self.rng.uniform(3600, 730 * 86_400, size))
            numbers = np.char.add("SC-", np.char.zfill(ids.astype(str), 8)).tolist()
            columns = zip(ids.tolist(), numbers, _customers(owners), placed, strict=True)
            orders = [(i, n, o, "delivered", p, 10.0, "USD") for i, n, o, p in columns]
            counts = self.rng.integers(1, 4, size)
            order_ids = np.repeat(ids, counts).tolist()
            products = self._product(int(counts.sum())).tolist()
            lines = list({(o, p): (o, p, 1, 10.0) for o, p in zip(order_ids, products, strict=True)}.values())
            yield orders, lines

    def event_chunks(self) -> Iterator[list[tuple[Any, ...]]]:
        for start in range(0, self.events, CHUNK):
            size = min(CHUNK, self.events - start)
            owners = self.rng.integers(1, self.customers, size)
            if start == 0:
                owners[:HEAVY_EVENTS] = 0
            kinds = EVENT_TYPES[self.rng.choice(4, size=size, p=EVENT_WEIGHTS)].tolist()
            products = self._product(size).tolist()
            at = _stamp(self.rng.uniform(60, 730 * 86_400, size))
            yield [
                (o, k, None, "query", a) if k == "search" else (o, k, p, None, a)
                for o, k, p, a in zip(_customers(owners), kinds, products, at, strict=True)
            ]


INSERTS = {
    "customers": "INSERT INTO customers (id, personalization_consent, marketing_consent, created_at) VALUES (?, ?, ?, ?)",
    "orders": "INSERT INTO orders (id, order_number, customer_id, status, placed_at, total, currency) VALUES (?, ?, ?, ?, ?, ?, ?)",
    "order_items": "INSERT INTO order_items (order_id, product_id, quantity, unit_price) VALUES (?, ?, ?, ?)",
    "events": "INSERT INTO events (customer_id, type, product_id, query, at) VALUES (?, ?, ?, ?, ?)",
}
COLUMNS = {
    "customers": ("id", "personalization_consent", "marketing_consent", "created_at"),
    "orders": ("id", "order_number", "customer_id", "status", "placed_at", "total", "currency"),
    "order_items": ("order_id", "product_id", "quantity", "unit_price"),
    "events": ("customer_id", "type", "product_id", "query", "at"),
}


LOADED = ("orders", "order_items", "events")


def _load_sqlite(path: Path, rows: Rows) -> None:
    """Secondary indexes are dropped for the load and rebuilt after it (the usual bulk-load order)."""
    connection = sqlite3.connect(path)
    try:
        connection.execute("PRAGMA synchronous=OFF")
        indexes = connection.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
            " AND tbl_name IN ('orders', 'order_items', 'events')"
        ).fetchall()
        for name, _ in indexes:  # names read back from the schema itself, quoted as identifiers
            connection.execute('DROP INDEX "{}"'.format(name.replace('"', '""')))
        connection.executemany(INSERTS["customers"], rows.customer_rows())
        for orders, lines in rows.order_chunks():
            connection.executemany(INSERTS["orders"], orders)
            connection.executemany(INSERTS["order_items"], lines)
        for events in rows.event_chunks():
            connection.executemany(INSERTS["events"], events)
        for _, definition in indexes:
            connection.execute(definition)
        connection.commit()
        connection.execute("ANALYZE")
    finally:
        connection.close()


def _copy(cursor: psycopg.Cursor[Any], table: str, chunk: list[tuple[Any, ...]]) -> None:
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, COLUMNS[table])))
    with cursor.copy(statement) as copy:
        for row in chunk:
            copy.write_row(row)


def _load_postgres(url: str, rows: Rows) -> None:
    conninfo = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo) as connection, connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = ANY(%s) AND indexdef NOT LIKE 'CREATE UNIQUE%%'",
            (list(LOADED),),
        )
        indexes = cursor.fetchall()
        for name, _ in indexes:
            cursor.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(name)))
        _copy(cursor, "customers", list(rows.customer_rows()))
        for orders, lines in rows.order_chunks():
            _copy(cursor, "orders", orders)
            _copy(cursor, "order_items", lines)
        for events in rows.event_chunks():
            _copy(cursor, "events", events)
        for _, definition in indexes:
            cursor.execute(definition)
        cursor.execute("SELECT setval(pg_get_serial_sequence('orders', 'id'), (SELECT max(id) FROM orders))")
        connection.commit()
        connection.autocommit = True
        cursor.execute("ANALYZE")


def _scratch_postgres(admin_url: str, name: str) -> str:
    url = make_url(admin_url)
    conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo, autocommit=True) as connection:
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return url.set(database=name).render_as_string(hide_password=False)


def drop_postgres(admin_url: str, name: str) -> None:
    conninfo = make_url(admin_url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo, autocommit=True) as connection:
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def measure(url: str, catalog_path: Path, searcher: CatalogSearcher, artifacts: Path, load: Any, rows: Rows) -> dict[str, Any]:
    """Load the rows into the migrated store at ``url``; time training, recommending and re-ranking."""
    with open_store(url, migrate_first=True) as store:
        with store.unit_of_work() as uow:
            uow.products.mirror_catalog(catalog_path)
            uow.commit()
        started = time.perf_counter()
        load(rows)
        loaded = time.perf_counter() - started
        recommender = Recommender(searcher, artifacts, wait_for_tables=True)
        catalog = recommender.catalog
        started = time.perf_counter()
        with store.unit_of_work() as uow:
            recommender.models.get(uow, catalog, wait=True)
        trained = time.perf_counter() - started
        request = Request(k=10)
        recommend_times, rerank_times = [], []
        hits = [Hit(product, 1.0 - n / 100) for n, product in enumerate(catalog.products[:10])]
        for _ in range(SAMPLES):
            with store.unit_of_work() as uow:
                started = time.perf_counter()
                items, personal = recommender.recommend(uow, HEAVY, request)
                recommend_times.append(time.perf_counter() - started)
            assert personal and len(items) == 10
            with store.unit_of_work() as uow:
                started = time.perf_counter()
                rerank(hits, customer_affinities(uow, HEAVY, catalog.get), "something")
                rerank_times.append(time.perf_counter() - started)
        return {
            "load_seconds": round(loaded, 1), "train_seconds": round(trained, 1),
            "recommend_long_history": latency_summary(recommend_times), "search_rerank": latency_summary(rerank_times),
        }


def scale(
    data_dir: Path, index_dir: Path, model_name: str, workdir: Path, customers: int, events: int, postgres_admin_url: str | None
) -> dict[str, Any]:
    searcher = CatalogSearcher.load(index_dir, model_name)
    ids = searcher.product_ids
    results: dict[str, Any] = {"sizes": {"customers": customers, "events": events, "orders": max(events // 10, HEAVY_ORDERS),
                                         "heavy_customer_events": HEAVY_EVENTS, "heavy_customer_orders": HEAVY_ORDERS,
                                         "products": len(ids), "samples": SAMPLES}}
    sqlite_path = workdir / "scale.db"
    sqlite_path.unlink(missing_ok=True)
    results["sqlite"] = measure(f"sqlite:///{sqlite_path}", data_dir / "catalog.jsonl", searcher, workdir / "sqlite-tables",
                                lambda rows: _load_sqlite(sqlite_path, rows), Rows(ids, customers, events))
    sqlite_path.unlink(missing_ok=True)
    if postgres_admin_url:
        name = "shop_recommend_bench"
        try:
            url = _scratch_postgres(postgres_admin_url, name)
        except psycopg.OperationalError as error:
            results["postgresql"] = {"skipped": f"PostgreSQL unreachable: {error}"}
            return results
        try:
            results["postgresql"] = measure(url, data_dir / "catalog.jsonl", searcher, workdir / "pg-tables",
                                            lambda rows: _load_postgres(url, rows), Rows(ids, customers, events))
        finally:
            drop_postgres(postgres_admin_url, name)
    return results
