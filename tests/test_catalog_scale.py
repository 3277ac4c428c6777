"""Index kind by catalog size (IVF above a threshold), incremental upsert/delete, version swaps under a live searcher."""

from __future__ import annotations

import json
import random
import shutil
import threading
from dataclasses import asdict
from pathlib import Path

import faiss
import numpy as np
import pytest

import catalog_index.hybrid as hybrid_module
from assistant.settings import default_embedding_model
from catalog_index.ann import IndexParams, edited_index, new_index, search_parameters
from catalog_index.artifacts import Manifest, sha256_file
from catalog_index.build import build_index, index_status
from catalog_index.embedder import Embedder
from catalog_index.errors import IndexUnavailable
from catalog_index.fusion import DEFAULT_FUSION, FusionConfig
from catalog_index.importer import import_catalog, read_catalog
from catalog_index.request import SearchRequest
from catalog_index.search import CatalogSearcher, SearchFilters
from catalog_index.update import delete_products, upsert_products
from tests.test_catalog_search import random_filters, violations

DATA = Path(__file__).parent / "data"
MODEL = default_embedding_model()
TINY_ANN = IndexParams(ann_threshold=10, nprobe=2)  # the 41-product fixture catalog gets an IVF index
LANTERN = {"id": "Z900", "title": "Glowworm Zorbulator Camping Lantern", "brand": "Lumo", "category": "Outdoors",
           "price": 29.5, "color": "green", "description": "A bright rechargeable lantern for tents and campsites."}


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    return Embedder(MODEL)


def make_store(root: Path, embedder: Embedder, params: IndexParams | None = None) -> tuple[Path, Path]:
    root.mkdir(parents=True, exist_ok=True)
    import_catalog(DATA / "catalog_small.jsonl", root / "catalog.jsonl")
    build_index(root / "catalog.jsonl", root / "index", MODEL, progress=False, embedder=embedder, params=params)
    return root / "catalog.jsonl", root / "index"


@pytest.fixture(scope="module")
def ivf_store(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> tuple[Path, Path]:
    return make_store(tmp_path_factory.mktemp("catalog-ivf"), embedder, TINY_ANN)


def test_index_kind_follows_the_size_threshold(ivf_store: tuple[Path, Path], tmp_path: Path, embedder: Embedder) -> None:
    manifest = Manifest.read(ivf_store[1])
    assert manifest.faiss_index_type.startswith("IVF") and manifest.faiss_index_type.endswith(",Flat,IP")
    assert manifest.index_params["kind"] == "ivf" and manifest.index_params["nprobe"] == 2
    index = faiss.read_index(str(ivf_store[1] / "index.faiss"))
    assert index.ntotal == manifest.product_count == 41
    assert search_parameters(index, manifest.index_params).nprobe == 2  # the searcher's search-time parameter

    _, flat_dir = make_store(tmp_path / "flat", embedder, IndexParams(ann_threshold=41))
    assert Manifest.read(flat_dir).faiss_index_type == "IDMap2,Flat,IP"
    _, sq_dir = make_store(tmp_path / "sq8", embedder, IndexParams(ann_threshold=10, quantizer="sq8"))
    assert ",SQ8," in Manifest.read(sq_dir).faiss_index_type


@pytest.mark.parametrize("exact_subset_rows", [0, hybrid_module.EXACT_SUBSET_ROWS], ids=["bitmap-ivf", "exact-subset"])
def test_ivf_filters_never_violate_and_never_starve(
    ivf_store: tuple[Path, Path], embedder: Embedder, monkeypatch: pytest.MonkeyPatch, exact_subset_rows: int
) -> None:
    """Both filtered paths of the IVF dense leg: the widening bitmap search and exact scoring of few rows."""
    monkeypatch.setattr(hybrid_module, "EXACT_SUBSET_ROWS", exact_subset_rows)
    products = read_catalog(ivf_store[0])
    rng = random.Random(3)
    for fusion in (DEFAULT_FUSION, FusionConfig(method="dense")):
        searcher = CatalogSearcher.load(ivf_store[1], MODEL, embedder=embedder, fusion=fusion)
        for _ in range(60):
            filters = random_filters(rng, products)
            k = rng.choice([1, 3, 10])
            matching = [p for p in products if not violations(p, filters)]
            result = searcher.search(rng.choice(["boots", "warm jacket", "coffee", "tent"]), k=k, filters=filters)
            assert result.total_matching == len(matching)
            assert len(result.hits) == min(k, len(matching)), filters
            assert all(violations(hit.product, filters) == [] for hit in result.hits), filters


def test_ivf_edit_keeps_every_vector_at_its_new_row() -> None:
    """Delete, update and add on a trained IVF index: ids are renumbered, nothing is re-clustered."""
    vectors = np.random.default_rng(0).standard_normal((2000, 16)).astype(np.float32)
    faiss.normalize_L2(vectors)
    params = IndexParams(ann_threshold=100, nprobe=4)
    index, persisted = new_index(vectors, params)
    new_row_of = np.arange(2000, dtype=np.int64)
    new_row_of[[5, 700]] = -1  # deleted
    new_row_of[6:700] -= 1
    new_row_of[701:] -= 2
    new_row_of[10] = -1  # updated: removed here, re-added below at its row
    fresh = np.random.default_rng(1).standard_normal((2, 16)).astype(np.float32)
    faiss.normalize_L2(fresh)
    edited, kept_params = edited_index(index, persisted, new_row_of, np.array([9, 1998]), fresh, params)
    assert edited.ntotal == 1999 and kept_params["trained_on"] == 2000  # edited in place, not retrained
    expected = np.empty((1999, 16), dtype=np.float32)
    expected[new_row_of[new_row_of >= 0]] = vectors[new_row_of >= 0]
    expected[[9, 1998]] = fresh
    assert np.allclose(edited.reconstruct_n(0, 1999), expected)
    scores, rows = edited.search(expected[500:501], 1, params=search_parameters(edited, kept_params, nprobe=persisted["nlist"]))
    assert rows[0][0] == 500


@pytest.mark.parametrize("params", [None, TINY_ANN], ids=["flat", "ivf"])
def test_upsert_update_delete_are_visible_to_the_next_search(
    tmp_path: Path, embedder: Embedder, params: IndexParams | None
) -> None:
    catalog, index_dir = make_store(tmp_path, embedder, params)
    searcher = CatalogSearcher.load(index_dir, MODEL, embedder=embedder)  # loaded before the changes, never reloaded by hand
    lexical = CatalogSearcher.load(index_dir, MODEL, embedder=embedder, fusion=FusionConfig(method="lexical"))
    dense = CatalogSearcher.load(index_dir, MODEL, embedder=embedder, fusion=FusionConfig(method="dense"))
    kind = Manifest.read(index_dir).faiss_index_type

    report = upsert_products(catalog, index_dir, MODEL, {"Z900": LANTERN}, embedder=embedder)
    assert (report.changes.added, report.changes.embedded) == (1, 1)
    assert lexical.search("zorbulator", k=1).hits[0].product["id"] == "Z900"
    assert dense.search("camping lantern for the tent", k=1).hits[0].product["id"] == "Z900"
    assert searcher.search("", k=5, filters=SearchFilters(category="Outdoors")).total_matching == 1
    assert Manifest.read(index_dir).faiss_index_type == kind  # the index keeps its kind and parameters

    cheaper = {**LANTERN, "price": 9.5}  # same embedded text: nothing is embedded again
    report = upsert_products(catalog, index_dir, MODEL, {"Z900": cheaper}, embedder=embedder)
    assert (report.changes.updated, report.changes.embedded) == (0, 0)
    assert [hit.product["id"] for hit in searcher.search("lantern", k=5, filters=SearchFilters(price_max=10)).hits] == ["Z900"]
    renamed = {**LANTERN, "title": "Glowworm Quuxifier Camping Lantern"}
    report = upsert_products(catalog, index_dir, MODEL, {"Z900": renamed}, embedder=embedder)
    assert (report.changes.updated, report.changes.embedded) == (1, 1)
    assert lexical.search("quuxifier", k=1).hits[0].product["id"] == "Z900"
    assert not lexical.search("zorbulator", k=5).hits

    report = delete_products(catalog, index_dir, MODEL, ["Z900", "B001", "NOPE"], embedder=embedder)
    assert (report.changes.deleted, report.unknown_ids) == (2, ["NOPE"])
    for leg in (searcher, lexical, dense):
        assert not {"Z900", "B001"} & {hit.product["id"] for hit in leg.search("camping lantern hiking boots", k=40).hits}
    assert searcher.get("B001") is None and len(searcher) == 40
    assert [p["id"] for p in read_catalog(index_dir / "products.jsonl")] == [p["id"] for p in read_catalog(catalog)]
    assert index_status(catalog, index_dir, MODEL).ok
    assert CatalogSearcher.load(index_dir, MODEL, embedder=embedder).search("hiking boots", k=3).hits  # loads fresh too


def test_bad_changes_are_refused_and_lose_nothing(tmp_path: Path, embedder: Embedder) -> None:
    catalog, index_dir = make_store(tmp_path, embedder)
    before = catalog.read_bytes()
    with pytest.raises(KeyError, match="none of these products"):
        delete_products(catalog, index_dir, MODEL, ["NOPE"], embedder=embedder)
    with pytest.raises(ValueError, match="leave the catalog empty"):
        delete_products(catalog, index_dir, MODEL, [p["id"] for p in read_catalog(catalog)], embedder=embedder)
    assert catalog.read_bytes() == before and index_status(catalog, index_dir, MODEL).ok


def test_searches_keep_working_while_versions_are_swapped(tmp_path: Path, embedder: Embedder) -> None:
    catalog, index_dir = make_store(tmp_path, embedder, TINY_ANN)
    searcher = CatalogSearcher.load(index_dir, MODEL, embedder=embedder)
    errors: list[BaseException] = []
    sizes: list[int] = []
    stop = threading.Event()

    def search_all_the_time() -> None:
        while not stop.is_set():
            try:
                result = searcher.run(SearchRequest.parse("warm jacket under 300", searcher.vocabulary, k=5))
                assert result.hits and all(hit.product["price"] <= 300 for hit in result.hits)
                sizes.append(len(searcher))
            except BaseException as error:  # noqa: BLE001 - reported by the main thread
                errors.append(error)
                return

    reader = threading.Thread(target=search_all_the_time)
    reader.start()
    try:
        for number in range(4):
            product = {**LANTERN, "id": f"Z90{number}", "title": f"Lantern model {number}"}
            upsert_products(catalog, index_dir, MODEL, {product["id"]: product}, embedder=embedder)
    finally:
        stop.set()
        reader.join()
    assert errors == []
    assert sizes and set(sizes) <= {41, 42, 43, 44, 45}
    assert len(searcher) == 45
    versions = [path for path in (tmp_path / "index.versions").iterdir() if path.is_dir() and path.name.startswith("v")]
    assert len(versions) == 2  # the current version and the one before it; older ones are removed


def test_a_broken_new_version_is_refused_while_the_old_one_keeps_serving(tmp_path: Path, embedder: Embedder) -> None:
    catalog, index_dir = make_store(tmp_path, embedder)
    searcher = CatalogSearcher.load(index_dir, MODEL, embedder=embedder)
    upsert_products(catalog, index_dir, MODEL, {"Z900": LANTERN}, embedder=embedder)
    data = bytearray((index_dir / "index.faiss").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (index_dir / "index.faiss").write_bytes(bytes(data))
    manifest = json.loads((index_dir / "manifest.json").read_text())
    (index_dir / "manifest.json").write_text(json.dumps({**manifest, "built_at": "touched"}))  # looks like a new version
    assert len(searcher) == 41 and searcher.search("boots", k=1).hits  # the loaded version keeps serving
    with pytest.raises(IndexUnavailable, match=r"index\.faiss is corrupted"):
        CatalogSearcher.load(index_dir, MODEL, embedder=embedder)


def test_index_file_of_another_kind_is_refused(ivf_store: tuple[Path, Path], tmp_path: Path, embedder: Embedder) -> None:
    """A flat index file put where the manifest says IVF (checksum updated too) is caught by its kind."""
    index_dir = tmp_path / "index"
    shutil.copytree(ivf_store[1], index_dir)
    stored = faiss.read_index(str(index_dir / "index.faiss"))
    flat, _ = new_index(stored.reconstruct_n(0, stored.ntotal), IndexParams())
    faiss.write_index(flat, str(index_dir / "index.faiss"))
    manifest = asdict(Manifest.read(index_dir))
    (index_dir / "manifest.json").write_text(json.dumps({**manifest, "index_sha256": sha256_file(index_dir / "index.faiss")}))
    with pytest.raises(IndexUnavailable, match=r"is a IDMap2,Flat,IP index, manifest says IVF\d+,Flat,IP"):
        CatalogSearcher.load(index_dir, MODEL, embedder=embedder)


def test_cli_upsert_and_delete(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from assistant.cli import main

    store = ["--data-dir", str(tmp_path)]
    assert main([*store, "catalog", "import", str(DATA / "catalog_small.jsonl")]) == 0
    assert main([*store, "catalog", "build-index", "--quiet", "--ann-threshold", "10", "--nprobe", "3"]) == 0
    changes = tmp_path / "changes.csv"
    changes.write_text("id,title,price\nZ900,Glowworm Zorbulator Camping Lantern,29.50\n,no id here,1\n")
    assert main([*store, "catalog", "upsert", str(changes)]) == 0
    assert main([*store, "catalog", "delete", "B001"]) == 0
    assert main([*store, "catalog", "delete", "NOPE"]) == 1
    out, err = capsys.readouterr()
    assert "1 added, 0 updated, 0 deleted, 1 embedded" in out and "skipped rows: 1" in out
    assert "0 added, 0 updated, 1 deleted, 0 embedded" in out and "none of these products is in the catalog: NOPE" in err
    manifest = Manifest.read(tmp_path / "index")
    assert manifest.index_params["nprobe"] == 3 and manifest.faiss_index_type.startswith("IVF")  # kept by upsert/delete
    assert main([*store, "catalog", "search", "zorbulator", "--k", "1", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["hits"][0]["id"] == "Z900"
