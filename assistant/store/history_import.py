"""Import purchase history and browsing events into the customer store.

What files and fields are accepted, and how each line is checked, is
:mod:`assistant.store.history_records`; this module writes what passed.

Customers are created on first sight; products must already be in the store
(``uow.products.mirror_catalog`` mirrors the catalog) and lines naming unknown products are skipped and
counted.  Everything is upserted on natural keys (customer id, order number, order +
product, an event's content), so importing the same file again changes nothing.  Rows go to
the database in executemany batches in one transaction: a failed import leaves the store as
it was.
"""

from __future__ import annotations

import errno
import itertools
import time
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from assistant.settings import Settings
from assistant.store.db import UnitOfWork, open_store
from assistant.store.history_records import (
    HistoryFileError,
    ImportReport,
    InvalidRecord,
    ParsedOrder,
    customer_row,
    event_row,
    group_order_lines,
    line_count,
    parse_order,
    read_records,
    record_kind,
)
from assistant.store.models import Customer, Event, Order, OrderItem, Product, Refund, Shipment, utcnow
from assistant.store.upsert import BATCH_SIZE, upsert_rows

HISTORY_FILES = ("customers.jsonl", "orders.jsonl", "events.jsonl")
COUNTED_TABLES = {
    "customers": Customer, "orders": Order, "order_items": OrderItem,
    "shipments": Shipment, "refunds": Refund, "events": Event,
}


def import_history(target: Settings | str, source: Path | str, progress: bool = False) -> ImportReport:
    """Import a history directory or file into the database of ``target`` (settings or URL).

    ``progress``: a bar per file on a terminal.
    """
    url = target.database_url if isinstance(target, Settings) else target
    source = Path(source)
    files = [source / name for name in HISTORY_FILES if (source / name).exists()] if source.is_dir() else [source]
    if not files:
        raise FileNotFoundError(errno.ENOENT, f"no history files ({', '.join(HISTORY_FILES)}) in it", str(source))
    started = time.perf_counter()
    report = ImportReport(sources=[str(path) for path in files])
    with open_store(url) as store, store.unit_of_work() as uow:
        before = _row_counts(uow.session)
        importer = _Importer(uow.session, report)
        for path in files:
            importer.import_file(path, progress)
        report.added = dict.fromkeys(COUNTED_TABLES, 0)
        if report.accepted:  # else nothing is kept, not even the customers or empty orders its bad lines named
            after = _row_counts(uow.session)
            report.added = {table: after[table] - before[table] for table in COUNTED_TABLES}
            uow.commit()
    report.seconds = time.perf_counter() - started
    return report


def _row_counts(session: Session) -> dict[str, int]:
    return {
        table: int(session.scalar(select(func.count()).select_from(model)) or 0)
        for table, model in COUNTED_TABLES.items()
    }


class _Importer:
    """Imports files into one session, remembering the products and customers it has seen."""

    def __init__(self, session: Session, report: ImportReport) -> None:
        self.session = session
        self.report = report
        self.products = set(session.scalars(select(Product.id)))
        self.customers: set[str] = set()

    def import_file(self, path: Path, progress: bool = False) -> None:
        records = read_records(path)
        if progress:
            from tqdm import tqdm

            records = iter(tqdm(records, total=line_count(path), desc=path.name, unit=" lines", leave=False,
                                disable=None))  # None: no bar when stderr is not a terminal
        first = next(records, None)
        if first is None:
            return
        try:
            kind = record_kind(first[1])
        except ValueError as error:
            raise HistoryFileError(f"{first[0]}: {error}") from None
        chained = itertools.chain([first], records)
        if kind == "customers":
            self._customers(chained)
        elif kind == "orders":
            self._orders(chained)
        elif kind == "order_lines":
            self._orders(group_order_lines(chained, self.report, self.products), count=False)
        else:
            self._events(chained)

    def _known_product(self, product_id: str) -> bool:
        if product_id in self.products:
            return True
        self.report.skipped_unknown_product += 1
        self.report.unknown_product_ids.add(product_id)
        return False

    def _customers(self, records: Iterable[tuple[str, dict[str, Any]]]) -> None:
        """Upsert customers, writing only the fields each record gives (grouped by which fields those are)."""
        groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for where, record in records:
            self.report.read["customers"] += 1
            try:
                row = customer_row(record)
            except InvalidRecord as error:
                self.report.invalid(where, str(error))
                continue
            self.report.accepted += 1
            groups.setdefault(tuple(sorted(row)), []).append(row)
        for fields, rows in groups.items():
            new = [{"created_at": utcnow(), "marketing_consent": False, **row} for row in rows if row["id"] not in self.customers]
            self._insert_new_customers(new)
            upsert_rows(self.session, Customer.__table__, rows, ["id"], tuple(name for name in fields if name != "id"))
            self.customers.update(row["id"] for row in rows)

    def _insert_new_customers(self, rows: list[dict[str, Any]]) -> None:
        """Create customers not in the store yet (the upsert then fills their fields)."""
        if not rows:
            return
        known = set(self.session.scalars(select(Customer.id).where(Customer.id.in_([row["id"] for row in rows]))))
        fresh = [row for row in rows if row["id"] not in known]
        upsert_rows(self.session, Customer.__table__, fresh, ["id"])

    def _ensure_customers(self, first_seen: dict[str, tuple[str | None, datetime]]) -> None:
        """Create customers met for the first time; an e-mail already used elsewhere is left off."""
        new = {cid: seen for cid, seen in first_seen.items() if cid not in self.customers}
        if not new:
            return
        rows = [{"id": cid, "email": email, "created_at": at, "marketing_consent": False}
                for cid, (email, at) in new.items()]
        upsert_rows(self.session, Customer.__table__, rows, None)
        present = set(self.session.scalars(select(Customer.id).where(Customer.id.in_(list(new)))))
        missing = [{**row, "email": None} for row in rows if row["id"] not in present]
        upsert_rows(self.session, Customer.__table__, missing, ["id"])
        self.customers.update(new)

    def _orders(self, records: Iterable[tuple[str, dict[str, Any]]], count: bool = True) -> None:
        batch: list[ParsedOrder] = []
        for where, record in records:
            if count:
                self.report.read["orders"] += 1
            try:
                batch.append(parse_order(record))
            except InvalidRecord as error:
                self.report.invalid(where, str(error))
                continue
            if count:  # order lines were counted as they were grouped
                self.report.accepted += 1
            if len(batch) >= BATCH_SIZE:
                self._write_orders(batch)
                batch = []
        if batch:
            self._write_orders(batch)

    def _keep_newer_statuses(self, batch: list[ParsedOrder]) -> None:
        """An export is a snapshot from before: a status the store or the chat set since then stays.

        Orders whose status came from the store's updates (``POST /api/events``) or from a
        request in chat (cancellation requested) keep it; the rest of the row is imported.
        """
        numbers = [parsed.row["order_number"] for parsed in batch]
        newer = {
            number: (status, cancelled_at)
            for number, status, cancelled_at in self.session.execute(
                select(Order.order_number, Order.status, Order.cancelled_at)
                .where(Order.order_number.in_(numbers), Order.status_source.in_(("store", "assistant")))
            )
        }
        for parsed in batch:
            kept = newer.get(parsed.row["order_number"])
            if kept is not None:
                parsed.row["status"], parsed.row["cancelled_at"] = kept
                self.report.kept_newer_status += 1

    def _write_orders(self, batch: list[ParsedOrder]) -> None:
        first_seen: dict[str, tuple[str | None, datetime]] = {}
        for parsed in batch:
            first_seen.setdefault(parsed.row["customer_id"], (parsed.row["email"], parsed.row["placed_at"]))
        self._ensure_customers(first_seen)
        self._keep_newer_statuses(batch)
        upsert_rows(self.session, Order.__table__, (parsed.row for parsed in batch), ["order_number"],
                    ("customer_id", "email", "status", "placed_at", "total", "currency", "payment_method",
                     "cancelled_at"))
        numbers = [parsed.row["order_number"] for parsed in batch]
        ids = {
            number: order_id
            for number, order_id in self.session.execute(
                select(Order.order_number, Order.id).where(Order.order_number.in_(numbers))
            )
        }
        items: dict[tuple[int, str], dict[str, Any]] = {}
        shipments, refunds = [], []
        for parsed in batch:
            order_id = ids[parsed.row["order_number"]]
            for item in parsed.items:
                if not self._known_product(item["product_id"]):
                    continue
                line = items.setdefault((order_id, item["product_id"]), {**item, "order_id": order_id, "quantity": 0})
                line["quantity"] += item["quantity"]
            if parsed.shipment is not None:
                shipments.append({**parsed.shipment, "order_id": order_id})
            if parsed.refund is not None:
                refunds.append({**parsed.refund, "order_id": order_id})
        upsert_rows(self.session, OrderItem.__table__, items.values(), ["order_id", "product_id"],
                    ("quantity", "unit_price"))
        upsert_rows(self.session, Shipment.__table__, shipments, ["order_id"],
                    ("carrier", "tracking_number", "status", "shipped_at", "estimated_delivery", "delivered_at",
                     "delay_reason"))
        upsert_rows(self.session, Refund.__table__, refunds, ["order_id"], ("status", "amount", "refunded_at"))

    def _events(self, records: Iterable[tuple[str, dict[str, Any]]]) -> None:
        batch: list[dict[str, Any]] = []
        for where, record in records:
            self.report.read["events"] += 1
            try:
                row = event_row(record)
            except InvalidRecord as error:
                self.report.invalid(where, str(error))
                continue
            if row["product_id"] is not None and not self._known_product(row["product_id"]):
                continue
            self.report.accepted += 1
            batch.append(row)
            if len(batch) >= BATCH_SIZE:
                self._write_events(batch)
                batch = []
        if batch:
            self._write_events(batch)

    def _write_events(self, batch: list[dict[str, Any]]) -> None:
        first_seen: dict[str, tuple[str | None, datetime]] = {}
        for row in batch:
            if row["customer_id"] is not None:
                first_seen.setdefault(row["customer_id"], (None, row["at"]))
        self._ensure_customers(first_seen)
        upsert_rows(self.session, Event.__table__, batch, ["import_key"])



def import_order_records(uow: UnitOfWork, orders: Iterable[dict[str, Any]], source: str) -> ImportReport:
    """Upsert orders shaped like ``orders.jsonl`` records in the caller's transaction (``shop-assistant sync``).

    The same rules as a file import: customers created on first sight, lines naming products
    not in the store skipped and counted, natural keys so a repeat changes nothing.
    """
    report = ImportReport(sources=[source])
    before = _row_counts(uow.session)
    _Importer(uow.session, report)._orders((f"{source} order {order.get('order_number')}", order) for order in orders)
    after = _row_counts(uow.session)
    report.added = {table: after[table] - before[table] for table in COUNTED_TABLES}
    return report
