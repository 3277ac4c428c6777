"""Import purchase history and browsing events into the customer store.

Accepted input (``shop-assistant history import FILE``):

* a history directory as the demo generator writes it (``customers.jsonl``,
  ``orders.jsonl`` with nested items/shipment/refund, ``events.jsonl``), or one of those files;
* order lines exported from any shop, as CSV or JSON Lines, one line per ordered product:
  ``order_id, customer_id, product_id, quantity, ordered_at`` and optionally ``price``,
  ``email``, ``status`` (default ``delivered``: an export of past orders), ``currency``;
* events as JSON Lines or CSV: ``customer_id, type, product_id, query, at``;
* customers as CSV or JSON Lines: ``id`` and any of ``name, email, personalization_consent,
  marketing_consent, loyalty_tier, created_at``.  Only the fields a record gives are written,
  so a file of consents alone leaves names and e-mails as they are; a consent cell left empty
  means "not asked" for personalization (``None``) and "no" for marketing.

The kind of a file is recognised from its fields.  Customers are created on first sight;
products must already be in the store (``sync_products`` mirrors the catalog) and lines
naming unknown products are skipped and counted.  Everything is upserted on natural keys
(customer id, order number, order + product, an event's content), so importing the same
file again changes nothing.  Rows go to the database in executemany batches in one
transaction: a failed import leaves the store as it was.
"""

from __future__ import annotations

import csv
import errno
import hashlib
import itertools
import json
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from assistant.settings import Settings
from assistant.store.db import open_store
from assistant.store.models import EVENT_TYPES, Customer, Event, Order, OrderItem, Product, Refund, Shipment, utcnow
from assistant.store.repositories.customers import normalize_email
from assistant.store.upsert import BATCH_SIZE, upsert_rows

HISTORY_FILES = ("customers.jsonl", "orders.jsonl", "events.jsonl")
ORDER_LINE_FIELDS = ("order_id", "customer_id", "product_id", "quantity", "ordered_at")
CUSTOMER_FIELDS = ("name", "email", "personalization_consent", "marketing_consent", "loyalty_tier", "created_at")
COUNTED_TABLES = {
    "customers": Customer, "orders": Order, "order_items": OrderItem,
    "shipments": Shipment, "refunds": Refund, "events": Event,
}
MAX_PROBLEMS_SHOWN = 10


class InvalidRecord(ValueError):
    """A line that cannot be imported; it is skipped and reported, the import goes on."""


class HistoryFileError(ValueError):
    """A file that cannot be imported at all (not UTF-8, a line that is not JSON, fields of no known kind).

    The import is one transaction, so the store stays as it was; the message names the file and line.
    """


@dataclass
class ImportReport:
    """What an import read, added and skipped."""

    sources: list[str] = field(default_factory=list)
    read: Counter[str] = field(default_factory=Counter)
    added: dict[str, int] = field(default_factory=dict)
    skipped_unknown_product: int = 0
    unknown_product_ids: set[str] = field(default_factory=set)
    skipped_invalid: int = 0
    problems: list[str] = field(default_factory=list)
    accepted: int = 0  # records that were valid and named only known products (0: the import did nothing)
    seconds: float = 0.0
    kept_newer_status: int = 0  # orders whose status the store or the chat changed since the export

    def invalid(self, where: str, reason: str) -> None:
        self.skipped_invalid += 1
        if len(self.problems) < MAX_PROBLEMS_SHOWN:
            self.problems.append(f"{where}: {reason}")

    def summary(self) -> str:
        read = ", ".join(f"{count} {kind}" for kind, count in sorted(self.read.items())) or "nothing"
        added = ", ".join(f"{count} {table}" for table, count in self.added.items())
        lines = [f"history import from {', '.join(self.sources)} in {self.seconds:.1f} s", f"  read: {read}",
                 f"  new rows: {added}"]
        if self.kept_newer_status:
            lines.append(f"  kept the newer status of {self.kept_newer_status} orders (set by the store or the chat "
                         "since this export)")
        if self.skipped_unknown_product:
            sample = ", ".join(sorted(self.unknown_product_ids)[:MAX_PROBLEMS_SHOWN])
            lines.append(
                f"  skipped {self.skipped_unknown_product} lines naming {len(self.unknown_product_ids)} products "
                f"not in the catalog (run `catalog import` first?): {sample}"
            )
        if self.skipped_invalid:
            lines.append(f"  skipped {self.skipped_invalid} invalid lines:")
            lines.extend(f"    {problem}" for problem in self.problems)
        return "\n".join(lines)


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


def _line_count(path: Path) -> int:
    """About how many records a file holds (its newlines), for a progress bar's total."""
    with path.open("rb") as handle:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b""))


def _row_counts(session: Session) -> dict[str, int]:
    return {
        table: int(session.scalar(select(func.count()).select_from(model)) or 0)
        for table, model in COUNTED_TABLES.items()
    }


def read_records(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    """``(where, record)`` per line of a JSON Lines or CSV file; empty CSV cells become ``None``."""
    try:
        yield from _file_records(path)
    except UnicodeDecodeError as error:
        raise HistoryFileError(f"{path.name} is not UTF-8 text ({error.reason} at byte {error.start})") from None


def _file_records(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        if path.suffix.lower() == ".csv":
            for number, row in enumerate(csv.DictReader(handle), 2):
                yield f"{path.name}:{number}", {
                    key.strip(): (value.strip() or None) if isinstance(value, str) else value
                    for key, value in row.items() if key
                }
            return
        for number, line in enumerate(handle, 1):
            if line.strip():
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as error:
                    raise HistoryFileError(f"{path.name}:{number}: not JSON ({error.msg})") from None
                if not isinstance(record, dict):
                    raise HistoryFileError(f"{path.name}:{number}: expected a JSON object per line")
                yield f"{path.name}:{number}", record


def record_kind(record: dict[str, Any]) -> str:
    """Which kind of history a record is, from its fields."""
    if "items" in record and "order_number" in record:
        return "orders"
    if all(name in record for name in ORDER_LINE_FIELDS):
        return "order_lines"
    if "type" in record and "at" in record:
        return "events"
    if "id" in record and any(name in record for name in CUSTOMER_FIELDS):
        return "customers"
    raise ValueError(
        "unrecognised history record with fields " + ", ".join(sorted(record))
        + "; order lines need " + ", ".join(ORDER_LINE_FIELDS)
        + "; customers need id and any of " + ", ".join(CUSTOMER_FIELDS)
    )


def parse_time(value: Any) -> datetime:
    """ISO 8601 (``Z`` or offset; a naive time is taken as UTC) or Unix seconds."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, UTC)
    if not isinstance(value, str) or not value:
        raise InvalidRecord(f"missing or bad time {value!r}")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidRecord(f"bad time {value!r}") from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _optional_time(value: Any) -> datetime | None:
    return None if value in (None, "") else parse_time(value)


def _money(value: Any) -> float | None:
    if value in (None, ""):
        return None
    try:
        return round(float(value), 2)
    except (TypeError, ValueError):
        raise InvalidRecord(f"bad amount {value!r}") from None


def _quantity(value: Any) -> int:
    try:
        quantity = int(float(value))
    except (TypeError, ValueError):
        raise InvalidRecord(f"bad quantity {value!r}") from None
    if quantity < 1:
        raise InvalidRecord(f"quantity must be at least 1, got {quantity}")
    return quantity


_YES = ("1", "true", "yes", "y")
_NO = ("0", "false", "no", "n")


def _flag(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in _YES
    return bool(value)


def _consent(value: Any) -> bool | None:
    """Yes, no, or ``None`` (not asked: an empty cell or null); anything else is refused, not guessed."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _YES:
        return True
    if text in _NO:
        return False
    raise InvalidRecord(f"consent must be yes/no/true/false/1/0 or empty, got {value!r}")


def _required(record: dict[str, Any], name: str) -> str:
    value = record.get(name)
    if value in (None, ""):
        raise InvalidRecord(f"missing {name}")
    return str(value).strip()


def _email(value: Any) -> str | None:
    return normalize_email(value) if isinstance(value, str) and value.strip() else None


@dataclass
class _ParsedOrder:
    """One order's rows, validated before anything is written."""

    row: dict[str, Any]
    items: list[dict[str, Any]]
    shipment: dict[str, Any] | None
    refund: dict[str, Any] | None


def _parse_order(record: dict[str, Any]) -> _ParsedOrder:
    placed_at = record.get("placed_at")
    row = {
        "order_number": _required(record, "order_number"),
        "customer_id": _required(record, "customer_id"),
        "email": _email(record.get("email")),
        "status": _required(record, "status"),
        "placed_at": placed_at if isinstance(placed_at, datetime) else parse_time(placed_at),
        "total": _money(record.get("total")),
        "currency": record.get("currency"),
        "payment_method": record.get("payment_method"),
        "cancelled_at": _optional_time(record.get("cancelled_at")),
    }
    items = [
        {"product_id": _required(item, "product_id"), "quantity": _quantity(item.get("quantity")),
         "unit_price": _money(item.get("unit_price"))}
        for item in record.get("items") or []
    ]
    shipment = record.get("shipment")
    refund = record.get("refund")
    return _ParsedOrder(
        row=row,
        items=items,
        shipment=None if not shipment else {
            "carrier": shipment.get("carrier"), "tracking_number": shipment.get("tracking_number"),
            "status": shipment.get("status") or "unknown",
            **{name: _optional_time(shipment.get(name)) for name in ("shipped_at", "estimated_delivery", "delivered_at")},
            "delay_reason": shipment.get("delay_reason"),
        },
        refund=None if not refund else {
            "status": refund.get("status") or "requested", "amount": _money(refund.get("amount")),
            "refunded_at": _optional_time(refund.get("refunded_at")),
        },
    )


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

            records = iter(tqdm(records, total=_line_count(path), desc=path.name, unit=" lines", leave=False,
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
            self._orders(self._group_order_lines(chained), count=False)
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
                row = self._customer_row(record)
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

    @staticmethod
    def _customer_row(record: dict[str, Any]) -> dict[str, Any]:
        row: dict[str, Any] = {"id": _required(record, "id")}
        present = {name for name in CUSTOMER_FIELDS if name in record}
        for name in present & {"name", "loyalty_tier"}:
            row[name] = record[name] or None
        if "email" in present:
            row["email"] = _email(record["email"])
        if "created_at" in present and record["created_at"] not in (None, ""):
            row["created_at"] = parse_time(record["created_at"])
        if "marketing_consent" in present:
            row["marketing_consent"] = bool(_consent(record["marketing_consent"]))
        if "personalization_consent" in present:
            row["personalization_consent"] = _consent(record["personalization_consent"])
        return row

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

    def _group_order_lines(self, records: Iterable[tuple[str, dict[str, Any]]]) -> Iterator[tuple[str, dict[str, Any]]]:
        """Order lines grouped into orders shaped like the generator's, quantities of repeated lines summed."""
        orders: dict[str, tuple[str, dict[str, Any]]] = {}
        for where, record in records:
            self.report.read["order_lines"] += 1
            try:
                number = _required(record, "order_id")
                line = {"product_id": _required(record, "product_id"), "quantity": _quantity(record.get("quantity")),
                        "unit_price": _money(record.get("price"))}
                placed_at = parse_time(record.get("ordered_at"))
                customer_id = _required(record, "customer_id")
            except InvalidRecord as error:
                self.report.invalid(where, str(error))
                continue
            if line["product_id"] in self.products:  # a line of an unknown product is skipped (and counted) later
                self.report.accepted += 1
            if number not in orders:
                orders[number] = (where, {
                    "order_number": number, "customer_id": customer_id, "email": record.get("email"),
                    "status": record.get("status") or "delivered", "placed_at": placed_at,
                    "currency": record.get("currency"), "payment_method": None, "items": [],
                })
            order = orders[number][1]
            order["placed_at"] = min(order["placed_at"], placed_at)
            order["items"].append(line)
        for where, order in orders.values():
            prices = [line["unit_price"] for line in order["items"]]
            if all(price is not None for price in prices):
                order["total"] = round(sum(line["unit_price"] * line["quantity"] for line in order["items"]), 2)
            yield where, order

    def _orders(self, records: Iterable[tuple[str, dict[str, Any]]], count: bool = True) -> None:
        batch: list[_ParsedOrder] = []
        for where, record in records:
            if count:
                self.report.read["orders"] += 1
            try:
                batch.append(_parse_order(record))
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

    def _keep_newer_statuses(self, batch: list[_ParsedOrder]) -> None:
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

    def _write_orders(self, batch: list[_ParsedOrder]) -> None:
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
                row = self._event_row(record)
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

    def _event_row(self, record: dict[str, Any]) -> dict[str, Any]:
        kind = _required(record, "type")
        if kind not in EVENT_TYPES:
            raise InvalidRecord(f"unknown event type {kind!r}")
        customer_id = record.get("customer_id") or None
        session_id = record.get("session_id") or None
        if customer_id is None and session_id is None:
            raise InvalidRecord("an event needs a customer_id or a session_id")
        at = parse_time(record.get("at"))
        row = {
            "customer_id": customer_id, "session_id": session_id, "type": kind,
            "product_id": str(record["product_id"]) if record.get("product_id") else None,
            "query": record.get("query") or None, "at": at,
        }
        canonical = json.dumps({**row, "at": at.isoformat()}, sort_keys=True)
        row["import_key"] = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
        return row

    def _write_events(self, batch: list[dict[str, Any]]) -> None:
        first_seen: dict[str, tuple[str | None, datetime]] = {}
        for row in batch:
            if row["customer_id"] is not None:
                first_seen.setdefault(row["customer_id"], (None, row["at"]))
        self._ensure_customers(first_seen)
        upsert_rows(self.session, Event.__table__, batch, ["import_key"])



def import_order_records(session: Session, orders: Iterable[dict[str, Any]], source: str) -> ImportReport:
    """Upsert orders shaped like ``orders.jsonl`` records in the caller's transaction (``shop-assistant sync``).

    The same rules as a file import: customers created on first sight, lines naming products
    not in the store skipped and counted, natural keys so a repeat changes nothing.
    """
    report = ImportReport(sources=[source])
    before = _row_counts(session)
    _Importer(session, report)._orders((f"{source} order {order.get('order_number')}", order) for order in orders)
    after = _row_counts(session)
    report.added = {table: after[table] - before[table] for table in COUNTED_TABLES}
    return report
