"""build_index / index_status / CatalogSearcher.load with the real model and real FAISS."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import faiss
import pytest

from assistant.settings import default_embedding_model
from catalog_index.artifacts import Manifest
from catalog_index.build import build_index, ensure_index, index_status
from catalog_index.embedder import Embedder, document_text
from catalog_index.errors import IndexUnavailable
from catalog_index.importer import import_catalog, read_catalog
from catalog_index.search import CatalogSearcher

DATA = Path(__file__).parent / "data"
MODEL = default_embedding_model()


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    return Embedder(MODEL)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> tuple[Path, Path, Manifest]:
    """The small fixture catalog imported and indexed once; tests copy it before damaging it."""
    root = tmp_path_factory.mktemp("catalog-index")
    catalog = root / "catalog.jsonl"
    import_catalog(DATA / "catalog_small.jsonl", catalog)
    manifest = build_index(catalog, root / "index", MODEL, progress=False, embedder=embedder)
    return catalog, root / "index", manifest


def copy_of(built: tuple[Path, Path, Manifest], tmp_path: Path) -> tuple[Path, Path]:
    catalog, index_dir, _ = built
    shutil.copy(catalog, tmp_path / "catalog.jsonl")
    shutil.copytree(index_dir, tmp_path / "index")
    return tmp_path / "catalog.jsonl", tmp_path / "index"


def test_build_writes_manifest_and_id_map(built: tuple[Path, Path, Manifest]) -> None:
    catalog, index_dir, manifest = built
    products = read_catalog(catalog)
    index = faiss.read_index(str(index_dir / "index.faiss"))
    assert sorted(path.name for path in index_dir.iterdir()) == ["ids.json", "index.faiss", "lexical", "manifest.json", "products.jsonl"]
    assert index.ntotal == manifest.product_count == len(products) == 41
    assert json.loads((index_dir / "ids.json").read_text()) == [product["id"] for product in products]
    assert read_catalog(index_dir / "products.jsonl") == products
    assert Manifest.read(index_dir) == manifest
    assert (manifest.model_name, manifest.dimension, manifest.faiss_index_type) == (MODEL, 384, "IDMap2,Flat,IP")
    assert [path.name for path in index_dir.parent.iterdir() if path.name.startswith(".")] == []  # no temp dirs left


def test_stored_vectors_are_the_products_embeddings(built: tuple[Path, Path, Manifest], embedder: Embedder) -> None:
    catalog, index_dir, _ = built
    products = read_catalog(catalog)
    index = faiss.read_index(str(index_dir / "index.faiss"))
    expected = embedder.embed([document_text(products[7])])[0]
    assert float(index.reconstruct(7) @ expected) == pytest.approx(1.0, abs=1e-4)


def test_status_ok_then_stale_after_catalog_change(built: tuple[Path, Path, Manifest], tmp_path: Path) -> None:
    catalog, index_dir = copy_of(built, tmp_path)
    assert index_status(catalog, index_dir, MODEL).message == "ok"
    with catalog.open("a") as out:
        out.write(json.dumps({"id": "NEW1", "title": "Brand new lantern"}) + "\n")
    assert index_status(catalog, index_dir, MODEL).message == "stale: catalog changed"


def test_status_missing_and_model_mismatch(built: tuple[Path, Path, Manifest], tmp_path: Path) -> None:
    catalog, index_dir, _ = built
    assert index_status(catalog, tmp_path / "nothing", MODEL).state == "missing"
    assert str(index_status(catalog, index_dir, "other-model")) == f"mismatch: model {MODEL} vs other-model"


def test_ensure_index_rebuilds_only_when_needed(built: tuple[Path, Path, Manifest], tmp_path: Path, embedder: Embedder) -> None:
    catalog, index_dir = copy_of(built, tmp_path)
    assert ensure_index(catalog, index_dir, MODEL, progress=False, embedder=embedder) == built[2]
    with catalog.open("a") as out:
        out.write(json.dumps({"id": "NEW1", "title": "Brand new lantern"}) + "\n")
    rebuilt = ensure_index(catalog, index_dir, MODEL, progress=False, embedder=embedder)
    assert rebuilt.product_count == 42
    assert index_status(catalog, index_dir, MODEL).ok
    searcher = CatalogSearcher.load(index_dir, MODEL, embedder=embedder)
    assert searcher.search("lantern", k=1).hits[0].product["id"] == "NEW1"


def test_corrupted_index_file_is_refused(built: tuple[Path, Path, Manifest], tmp_path: Path, embedder: Embedder) -> None:
    _, index_dir = copy_of(built, tmp_path)
    data = bytearray((index_dir / "index.faiss").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (index_dir / "index.faiss").write_bytes(bytes(data))
    with pytest.raises(IndexUnavailable, match=r"index\.faiss is corrupted"):
        CatalogSearcher.load(index_dir, MODEL, embedder=embedder)


def test_truncated_index_file_is_refused(built: tuple[Path, Path, Manifest], tmp_path: Path, embedder: Embedder) -> None:
    _, index_dir = copy_of(built, tmp_path)
    (index_dir / "index.faiss").write_bytes((index_dir / "index.faiss").read_bytes()[:100])
    with pytest.raises(IndexUnavailable, match="corrupted"):
        CatalogSearcher.load(index_dir, MODEL, embedder=embedder)


def test_id_map_out_of_step_is_refused(built: tuple[Path, Path, Manifest], tmp_path: Path, embedder: Embedder) -> None:
    _, index_dir = copy_of(built, tmp_path)
    ids = json.loads((index_dir / "ids.json").read_text())
    (index_dir / "ids.json").write_text(json.dumps(ids[:-1]))
    with pytest.raises(IndexUnavailable, match="inconsistent: counts"):
        CatalogSearcher.load(index_dir, MODEL, embedder=embedder)


def test_damaged_manifest_and_missing_index_are_refused(built: tuple[Path, Path, Manifest], tmp_path: Path) -> None:
    _, index_dir = copy_of(built, tmp_path)
    with pytest.raises(IndexUnavailable, match="no index at .*build-index"):
        CatalogSearcher.load(tmp_path / "absent", MODEL)
    (index_dir / "manifest.json").write_text("{not json")
    with pytest.raises(IndexUnavailable, match="manifest.json is damaged"):
        CatalogSearcher.load(index_dir, MODEL)


def test_model_mismatch_is_refused(built: tuple[Path, Path, Manifest]) -> None:
    with pytest.raises(IndexUnavailable, match="built with model .* not 'other-model'"):
        CatalogSearcher.load(built[1], "other-model")


def test_rebuild_replaces_the_index_directory(built: tuple[Path, Path, Manifest], tmp_path: Path, embedder: Embedder) -> None:
    catalog, index_dir = copy_of(built, tmp_path)
    (index_dir / "leftover.txt").write_text("from an older build")
    build_index(catalog, index_dir, MODEL, progress=False, embedder=embedder)
    assert not (index_dir / "leftover.txt").exists()
    assert sorted(path.name for path in tmp_path.iterdir()) == ["catalog.jsonl", "index", "index.versions"]
    assert index_dir.is_symlink()
    versions = sorted(path.name for path in (tmp_path / "index.versions").iterdir() if path.is_dir())
    assert len(versions) == 2 and index_dir.resolve().name == versions[-1]  # the old plain directory kept as previous


def test_building_a_missing_catalog_says_what_to_do(tmp_path: Path, embedder: Embedder) -> None:
    with pytest.raises(FileNotFoundError, match="catalog import"):
        build_index(tmp_path / "catalog.jsonl", tmp_path / "index", MODEL, embedder=embedder)
