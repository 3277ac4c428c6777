"""An incremental upsert or delete publishes the same index a fresh build of the same catalog does (issue #15.6).

The update reuses what it did not change (the catalog lines of untouched products, their stored BM25 terms, the
empty fields of a title-only catalog), so these tests compare its version with a full build from the catalog file:
the same product rows and files, and BM25 scores within 1e-6.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from assistant.settings import default_embedding_model
from catalog_index.artifacts import IDS_FILE, PRODUCTS_FILE, Manifest, sha256_file
from catalog_index.build import build_index
from catalog_index.catalog_text import CatalogText
from catalog_index.embedder import Embedder
from catalog_index.importer import import_catalog, read_catalog, write_jsonl_atomic
from catalog_index.lexical import LEXICAL_DIR, LexicalIndex
from catalog_index.search import CatalogSearcher
from catalog_index.update import delete_products, upsert_products
from catalog_index.versions import current_version
from tests.test_catalog_scale import LANTERN

DATA = Path(__file__).parent / "data"
MODEL = default_embedding_model()
QUERIES = ["waterproof hiking boots", "zorbulator lantern", "trailpeak", "green", "rechargeable", "usb c charger", "refreshed edition"]


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    return Embedder(MODEL)


def store(root: Path, embedder: Embedder, title_only: bool) -> tuple[Path, Path]:
    root.mkdir(parents=True, exist_ok=True)
    import_catalog(DATA / "catalog_small.jsonl", root / "catalog.jsonl")
    if title_only:  # a bare export: only the title field has a BM25 index
        write_jsonl_atomic([{"id": p["id"], "title": p["title"]} for p in read_catalog(root / "catalog.jsonl")], root / "catalog.jsonl")
    build_index(root / "catalog.jsonl", root / "index", MODEL, progress=False, embedder=embedder)
    return root / "catalog.jsonl", root / "index"


def assert_same_as_a_fresh_build(catalog: Path, index_dir: Path, root: Path, embedder: Embedder) -> None:
    """The published version against a full build of a copy of ``catalog`` (no index to reuse)."""
    fresh_catalog = root / "fresh" / "catalog.jsonl"
    fresh_catalog.parent.mkdir()
    fresh_catalog.write_bytes(catalog.read_bytes())
    build_index(fresh_catalog, root / "fresh" / "index", MODEL, progress=False, embedder=embedder)
    updated, fresh = current_version(index_dir), current_version(root / "fresh" / "index")
    for name in (PRODUCTS_FILE, IDS_FILE):
        assert (updated / name).read_bytes() == (fresh / name).read_bytes(), name
    assert Manifest.read(updated).catalog_sha256 == sha256_file(catalog) == Manifest.read(fresh).catalog_sha256
    assert sorted(p.name for p in (updated / LEXICAL_DIR).iterdir()) == sorted(p.name for p in (fresh / LEXICAL_DIR).iterdir())
    ours, theirs = LexicalIndex.load(updated / LEXICAL_DIR), LexicalIndex.load(fresh / LEXICAL_DIR)
    for query in QUERIES:
        assert np.allclose(ours.scores(query), theirs.scores(query), rtol=0, atol=1e-6), query
    searcher = CatalogSearcher.load(index_dir, MODEL, embedder=embedder)
    rebuilt = CatalogSearcher.load(root / "fresh" / "index", MODEL, embedder=embedder)
    for query in QUERIES:
        assert [h.product["id"] for h in searcher.search(query, k=5).hits] == [h.product["id"] for h in rebuilt.search(query, k=5).hits]


@pytest.mark.parametrize("title_only", [False, True])
def test_upserts_and_deletes_publish_what_a_fresh_build_does(tmp_path: Path, embedder: Embedder, title_only: bool) -> None:
    catalog, index_dir = store(tmp_path / "store", embedder, title_only)
    products = read_catalog(catalog)
    retitled = {p["id"]: {**p, "title": f"{p['title']} Refreshed Edition"} for p in products[3:6]}
    repriced = {products[7]["id"]: {**products[7], "price": 1.0}}  # same text: embedded and tokenized for nothing
    report = upsert_products(catalog, index_dir, MODEL, {**retitled, **repriced, "Z900": LANTERN}, embedder=embedder)
    assert (report.changes.added, report.changes.updated, report.changes.embedded) == (1, 3, 4)
    delete_products(catalog, index_dir, MODEL, [products[0]["id"], products[10]["id"]], embedder=embedder)
    assert_same_as_a_fresh_build(catalog, index_dir, tmp_path, embedder)


def test_a_title_only_catalog_gains_a_field(tmp_path: Path, embedder: Embedder) -> None:
    catalog, index_dir = store(tmp_path / "store", embedder, title_only=True)
    assert sorted(p.name for p in (current_version(index_dir) / LEXICAL_DIR).iterdir()) == ["title"]
    upsert_products(catalog, index_dir, MODEL, {"Z900": LANTERN}, embedder=embedder)
    assert sorted(p.name for p in (current_version(index_dir) / LEXICAL_DIR).iterdir()) == ["attributes", "description", "title"]
    assert json.loads((current_version(index_dir) / IDS_FILE).read_text())[-1] == "Z900"
    assert_same_as_a_fresh_build(catalog, index_dir, tmp_path, embedder)


def test_an_edit_splices_lines_and_checks_what_it_writes(tmp_path: Path) -> None:
    lines = ['{"id": "a", "title": "Alpha Lamp", "note": "kept as written"}', '{"id":"b","title":"Beta"}', '{"id": "c", "title": "Gamma"}']
    data = ("\n".join(lines) + "\n").encode()
    before = CatalogText.of_bytes(data, ["a", "b", "c"])
    edited = before.upserted({"b": {"id": "b", "title": "Beta Desk XL"}, "d": {"id": "d", "title": "Delta"}}, tmp_path / "catalog.jsonl")
    assert edited.lines[0] == lines[0] and edited.lines[2] == lines[2]  # untouched lines are the very text read
    assert edited.ids == ["a", "b", "c", "d"] and edited.kept_from == [0, -1, 2, -1]
    assert edited.products[0] is before.products[0] and edited.products[1]["title"] == "Beta Desk XL"
    assert [json.loads(line) for line in edited.data.decode().splitlines()] == list(edited.products)
    assert before.without({"a", "c"}, tmp_path / "catalog.jsonl").lines == [lines[1]]
    with pytest.raises(ValueError, match="without id or title"):
        before.upserted({"e": {"id": "e"}}, tmp_path / "catalog.jsonl")
    unindexed = CatalogText.of_bytes(data + b'{"id": "x"}\n')  # not the catalog an index was built from: every row is checked
    with pytest.raises(ValueError, match="line 4: product without id or title"):
        unindexed.upserted({"d": {"id": "d", "title": "Delta"}}, tmp_path / "catalog.jsonl")
    with pytest.raises(ValueError, match="duplicate id 'a'"):
        CatalogText.of_bytes(data + b'{"id": "a", "title": "Again"}\n').check(tmp_path / "catalog.jsonl")
