"""import_catalog on the hand-written fixtures: JSON Lines with mixed column names, a bare CSV."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from catalog_index.importer import CatalogImportError, import_catalog, read_catalog

DATA = Path(__file__).parent / "data"


def test_import_jsonl_normalizes_dedupes_and_reports(tmp_path: Path) -> None:
    dest = tmp_path / "catalog.jsonl"
    report = import_catalog(DATA / "catalog_small.jsonl", dest)
    products = {product["id"]: product for product in read_catalog(dest)}
    assert (report.format, report.imported, report.duplicates) == ("jsonl", 41, 1)
    assert report.skipped == [(43, "product X001 has no title (or name)")]
    assert len(products) == 41
    assert products["A002"]["price"] == 24.0  # the later duplicate row wins
    assert products["K005"]["price"] == 1099.0
    assert (products["K005"]["category"], products["K005"]["subcategory"]) == ("Kitchen", "Coffee")
    assert products["A001"]["sizes"] == ["S", "M", "L"]
    assert "line 43" in report.summary()
    assert [path.name for path in tmp_path.iterdir()] == ["catalog.jsonl"]  # no temp file left


def test_import_bare_csv_with_only_id_and_title(tmp_path: Path) -> None:
    dest = tmp_path / "catalog.jsonl"
    report = import_catalog(DATA / "catalog_bare.csv", dest)
    products = read_catalog(dest)
    assert (report.format, report.imported) == ("csv", 9)
    assert [line for line, _ in report.skipped] == [6, 9]
    assert products[1] == {**products[1], "id": "C2", "title": "Blue denim jeans, slim fit", "price": None, "sizes": []}


def test_format_is_sniffed_without_extension(tmp_path: Path) -> None:
    jsonl = tmp_path / "export.dat"
    jsonl.write_text('{"id": "1", "name": "Mug"}\n\n{"id": "2", "name": "Cup"}\n')
    semicolons = tmp_path / "export2.dat"
    semicolons.write_text("sku;name;price\nA;Mug;3,50\nB;Cup;2\n")
    array = tmp_path / "export.json"
    array.write_text(json.dumps([{"id": "1", "title": "Mug"}]))
    assert import_catalog(jsonl, tmp_path / "a.jsonl").format == "jsonl"
    assert import_catalog(semicolons, tmp_path / "b.jsonl").format == "csv"
    assert read_catalog(tmp_path / "b.jsonl")[0]["price"] == 3.5
    assert import_catalog(array, tmp_path / "c.jsonl").format == "json"


def test_broken_json_lines_are_skipped_with_reason(tmp_path: Path) -> None:
    src = tmp_path / "cat.jsonl"
    src.write_text('{"id": "1", "title": "Mug"}\n{"id": "2", \n[1, 2]\n')
    report = import_catalog(src, tmp_path / "out.jsonl")
    assert report.imported == 1
    assert [line for line, _ in report.skipped] == [2, 3]
    assert report.skipped[0][1].startswith("invalid JSON")


def test_nothing_importable_keeps_the_old_catalog(tmp_path: Path) -> None:
    dest = tmp_path / "catalog.jsonl"
    dest.write_text('{"id": "old", "title": "Old"}\n')
    src = tmp_path / "bad.csv"
    src.write_text("id,title\n,no id\n")
    with pytest.raises(CatalogImportError, match="line 2: missing id"):
        import_catalog(src, dest)
    assert read_catalog(dest) == [{"id": "old", "title": "Old"}]


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(CatalogImportError, match="not found"):
        import_catalog(tmp_path / "nope.csv", tmp_path / "out.jsonl")
