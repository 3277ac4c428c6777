"""Reading and checking history files before anything is written (:mod:`assistant.store.history_import` writes).

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

The kind of a file is recognised from its fields (:func:`record_kind`).  A line that cannot be
imported raises :class:`InvalidRecord` and is skipped and reported; a file that cannot be read
at all raises :class:`HistoryFileError`.
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from assistant.store.models import EVENT_TYPES
from assistant.store.repositories.customers import normalize_email

ORDER_LINE_FIELDS = ("order_id", "customer_id", "product_id", "quantity", "ordered_at")
CUSTOMER_FIELDS = ("name", "email", "personalization_consent", "marketing_consent", "loyalty_tier", "created_at")
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


def line_count(path: Path) -> int:
    """About how many records a file holds (its newlines), for a progress bar's total."""
    with path.open("rb") as handle:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b""))


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


def optional_time(value: Any) -> datetime | None:
    return None if value in (None, "") else parse_time(value)


def money(value: Any) -> float | None:
    if value in (None, ""):
        return None
    try:
        return round(float(value), 2)
    except (TypeError, ValueError):
        raise InvalidRecord(f"bad amount {value!r}") from None


def quantity(value: Any) -> int:
    try:
        quantity = int(float(value))
    except (TypeError, ValueError):
        raise InvalidRecord(f"bad quantity {value!r}") from None
    if quantity < 1:
        raise InvalidRecord(f"quantity must be at least 1, got {quantity}")
    return quantity


_YES = ("1", "true", "yes", "y")
_NO = ("0", "false", "no", "n")


def consent(value: Any) -> bool | None:
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


def required(record: dict[str, Any], name: str) -> str:
    value = record.get(name)
    if value in (None, ""):
        raise InvalidRecord(f"missing {name}")
    return str(value).strip()


def email_of(value: Any) -> str | None:
    return normalize_email(value) if isinstance(value, str) and value.strip() else None


@dataclass
class ParsedOrder:
    """One order's rows, validated before anything is written."""

    row: dict[str, Any]
    items: list[dict[str, Any]]
    shipment: dict[str, Any] | None
    refund: dict[str, Any] | None


def parse_order(record: dict[str, Any]) -> ParsedOrder:
    placed_at = record.get("placed_at")
    row = {
        "order_number": required(record, "order_number"),
        "customer_id": required(record, "customer_id"),
        "email": email_of(record.get("email")),
        "status": required(record, "status"),
        "placed_at": placed_at if isinstance(placed_at, datetime) else parse_time(placed_at),
        "total": money(record.get("total")),
        "currency": record.get("currency"),
        "payment_method": record.get("payment_method"),
        "cancelled_at": optional_time(record.get("cancelled_at")),
    }
    items = [
        {"product_id": required(item, "product_id"), "quantity": quantity(item.get("quantity")),
         "unit_price": money(item.get("unit_price"))}
        for item in record.get("items") or []
    ]
    shipment = record.get("shipment")
    refund = record.get("refund")
    return ParsedOrder(
        row=row,
        items=items,
        shipment=None if not shipment else {
            "carrier": shipment.get("carrier"), "tracking_number": shipment.get("tracking_number"),
            "status": shipment.get("status") or "unknown",
            **{name: optional_time(shipment.get(name)) for name in ("shipped_at", "estimated_delivery", "delivered_at")},
            "delay_reason": shipment.get("delay_reason"),
        },
        refund=None if not refund else {
            "status": refund.get("status") or "requested", "amount": money(refund.get("amount")),
            "refunded_at": optional_time(refund.get("refunded_at")),
        },
    )


def customer_row(record: dict[str, Any]) -> dict[str, Any]:
    """The fields a customer record gives, validated (only those are written)."""
    row: dict[str, Any] = {"id": required(record, "id")}
    present = {name for name in CUSTOMER_FIELDS if name in record}
    for name in present & {"name", "loyalty_tier"}:
        row[name] = record[name] or None
    if "email" in present:
        row["email"] = email_of(record["email"])
    if "created_at" in present and record["created_at"] not in (None, ""):
        row["created_at"] = parse_time(record["created_at"])
    if "marketing_consent" in present:
        row["marketing_consent"] = bool(consent(record["marketing_consent"]))
    if "personalization_consent" in present:
        row["personalization_consent"] = consent(record["personalization_consent"])
    return row



def event_row(record: dict[str, Any]) -> dict[str, Any]:
    """An event's row, keyed by a digest of its content so that importing it twice adds nothing."""
    kind = required(record, "type")
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



def group_order_lines(records: Iterable[tuple[str, dict[str, Any]]], report: ImportReport,
                      known_products: set[str]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Order lines grouped into orders shaped like the generator's, quantities of repeated lines summed.

    A line naming a product not in ``known_products`` is not counted as accepted here; the writer skips it.
    """
    orders: dict[str, tuple[str, dict[str, Any]]] = {}
    for where, record in records:
        report.read["order_lines"] += 1
        try:
            number = required(record, "order_id")
            line = {"product_id": required(record, "product_id"), "quantity": quantity(record.get("quantity")),
                    "unit_price": money(record.get("price"))}
            placed_at = parse_time(record.get("ordered_at"))
            customer_id = required(record, "customer_id")
        except InvalidRecord as error:
            report.invalid(where, str(error))
            continue
        if line["product_id"] in known_products:  # a line of an unknown product is skipped (and counted) later
            report.accepted += 1
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

