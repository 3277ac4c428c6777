"""Import a retailer's catalog export (JSON Lines, a JSON array, or CSV/TSV) into ``catalog.jsonl``.

Bad rows are skipped and reported with their line numbers instead of failing the whole
import, because one broken row in a 50,000-row export should not block a store.  The
normalized file is written to a temporary file and renamed into place, so a crash or a
bad export never leaves a half-written catalog for the index build to pick up.
"""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from catalog_index.schema import CatalogRowError, Product, normalize_product

JSONL_SUFFIXES = {".jsonl", ".ndjson", ".jsonlines"}
CSV_SUFFIXES = {".csv", ".tsv", ".txt"}


class CatalogImportError(ValueError):
    """The file as a whole cannot be imported (unreadable, or not one usable product)."""


@dataclass
class ImportReport:
    """What an import did, for the CLI and for tests."""

    source: Path
    dest: Path
    format: str
    imported: int = 0
    duplicates: int = 0
    skipped: list[tuple[int, str]] = field(default_factory=list)  # (line, reason)

    def summary(self, max_reasons: int = 10) -> str:
        """Human-readable lines: counts, then the first skipped rows with their reasons."""
        lines = [
            f"imported {self.imported} products from {self.source} ({self.format}) -> {self.dest}",
            f"duplicates (last row wins): {self.duplicates}; skipped rows: {len(self.skipped)}",
        ]
        lines += [f"  line {line}: {reason}" for line, reason in self.skipped[:max_reasons]]
        if len(self.skipped) > max_reasons:
            lines.append(f"  ... and {len(self.skipped) - max_reasons} more")
        return "\n".join(lines)


def detect_format(src: Path, head: str) -> str:
    """``jsonl``, ``json`` (one array) or ``csv``, by extension first and by content otherwise."""
    suffix = src.suffix.lower()
    if suffix in JSONL_SUFFIXES:
        return "jsonl"
    if suffix in CSV_SUFFIXES:
        return "csv"
    first = head.lstrip()[:1]
    if first == "[":
        return "json"
    if first == "{":
        return "jsonl"
    return "csv"


def _jsonl_rows(text: str) -> Iterator[tuple[int, dict[str, Any] | str]]:
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as error:
            yield number, f"invalid JSON: {error.msg}"
            continue
        yield number, row if isinstance(row, dict) else f"expected a JSON object, got {type(row).__name__}"


def _json_array_rows(text: str) -> Iterator[tuple[int, dict[str, Any] | str]]:
    try:
        rows = json.loads(text)
    except json.JSONDecodeError as error:
        raise CatalogImportError(f"invalid JSON at line {error.lineno}: {error.msg}") from None
    if not isinstance(rows, list):
        raise CatalogImportError("a .json catalog must be an array of product objects")
    for number, row in enumerate(rows, 1):  # "line" is the item's position in the array
        yield number, row if isinstance(row, dict) else f"expected a JSON object, got {type(row).__name__}"


def _csv_rows(text: str, src: Path) -> Iterator[tuple[int, dict[str, Any] | str]]:
    sample = text[:20000]
    if src.suffix.lower() == ".tsv":
        delimiter = "\t"
    else:
        try:
            delimiter = csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
        except csv.Error:
            delimiter = ","
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
    if not reader.fieldnames:
        raise CatalogImportError(f"{src} has no header row")
    for row in reader:
        if None in row:
            yield reader.line_num, f"{len(row[None])} more cells than header columns"
            continue
        if all(value in (None, "") for value in row.values()):
            continue
        yield reader.line_num, row


def read_rows(src: Path) -> tuple[str, Iterator[tuple[int, dict[str, Any] | str]]]:
    """The detected format and ``(line, row-or-error-reason)`` pairs."""
    try:
        text = src.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise CatalogImportError(f"catalog file not found: {src}") from None
    except UnicodeDecodeError as error:
        raise CatalogImportError(f"{src} is not UTF-8 text: {error}") from None
    kind = detect_format(src, text[:1000])
    if kind == "jsonl":
        return kind, _jsonl_rows(text)
    if kind == "json":
        return kind, _json_array_rows(text)
    return kind, _csv_rows(text, src)


def jsonl_bytes(products: list[Product]) -> bytes:
    """The JSON Lines text of ``products`` (one object per line, UTF-8), as every catalog file is written."""
    return "".join(json.dumps(product, ensure_ascii=False) + "\n" for product in products).encode("utf-8")


def write_bytes_atomic(data: bytes, dest: Path) -> None:
    """Write ``data`` to a temp file beside ``dest``, then rename it over ``dest``."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(tmp_name, dest)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


def write_jsonl_atomic(products: list[Product], dest: Path) -> None:
    """Write one JSON object per line to a temp file beside ``dest``, then rename it over ``dest``."""
    write_bytes_atomic(jsonl_bytes(products), dest)


def normalize_file(src: Path) -> tuple[ImportReport, dict[str, Product]]:
    """Every usable product of ``src`` by id (the last row of an id wins), and the report of the rest.

    Raises :class:`CatalogImportError` when not one product can be used.
    """
    kind, rows = read_rows(Path(src))
    report = ImportReport(source=Path(src), dest=Path(src), format=kind)
    products: dict[str, Product] = {}
    for line, row in rows:
        if isinstance(row, str):
            report.skipped.append((line, row))
            continue
        try:
            product = normalize_product(row, line)
        except CatalogRowError as error:
            report.skipped.append((line, error.reason))
            continue
        if product["id"] in products:
            report.duplicates += 1
        products[product["id"]] = product
    if not products:
        reasons = "; ".join(f"line {line}: {reason}" for line, reason in report.skipped[:3])
        raise CatalogImportError(f"no product could be imported from {src}" + (f" ({reasons})" if reasons else ""))
    report.imported = len(products)
    return report, products


def import_catalog(src: Path, dest: Path) -> ImportReport:
    """Normalize ``src`` into ``dest`` (``catalog.jsonl``); the old catalog stays if nothing imports."""
    report, products = normalize_file(src)
    write_jsonl_atomic(list(products.values()), Path(dest))
    report.dest = Path(dest)
    return report


def read_catalog(path: Path) -> list[Product]:
    """The normalized products of a ``catalog.jsonl`` (or ``products.jsonl``), in file order."""
    with Path(path).open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]
