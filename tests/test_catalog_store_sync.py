"""Catalog commands keep the customer store's product mirror in step; index settings and crash leftovers.

The CLI runs in process on a real store (SQLite, and PostgreSQL when reachable).  Indexes are
built from random unit vectors: deletes and price changes embed nothing, so no model is loaded
except in the demo-setup test, which checks that the ``SHOP_INDEX_*`` settings reach the build.
"""

from __future__ import annotations

import json
import socket
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from assistant.cli import STORE_NOT_SYNCED, main
from assistant.demo_setup import set_up_demo_store
from assistant.errors import UsageError
from assistant.settings import load_settings
from assistant.store.db import make_engine, make_session_factory, migrate
from assistant.store.models import OrderItem, Product
from catalog_index.ann import IndexParams
from catalog_index.artifacts import Manifest
from catalog_index.build import build_index_from_vectors
from catalog_index.importer import import_catalog, read_catalog
from catalog_index.update import delete_products
from catalog_index.versions import BUILDING_PREFIX, new_build_dir, versions_dir
from tests.store_fixtures import (  # noqa: F401  (fixtures)
    add_order,
    postgres_url,
    store_url,
    write_catalog,
    write_jsonl,
)

DATA = Path(__file__).parent / "data"


def run(data_dir: Path, *args: str) -> int:
    return main(["--data-dir", str(data_dir), "catalog", *args])


def index_with_random_vectors(data_dir: Path) -> Path:
    """Index the store's catalog with unit vectors that stand in for embeddings (nothing searches them)."""
    settings = load_settings(data_dir)
    count = len(read_catalog(settings.catalog_path))
    vectors = np.random.default_rng(0).standard_normal((count, 16)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    build_index_from_vectors(settings.catalog_path, settings.index_dir, settings.embedding_model, vectors)
    return settings.index_dir


def indexed_ids(index_dir: Path) -> list[str]:
    return list(json.loads((index_dir / "ids.json").read_text()))


def mirror(url: str) -> dict[str, Product]:
    """The store's products as a fresh session sees them (what another process would see)."""
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as session:
            return {product.id: product for product in session.scalars(select(Product))}
    finally:
        engine.dispose()


def available(product: Product) -> bool:
    return bool(product.payload.get("available", True))


def test_import_upsert_delete_keep_the_mirror_and_order_history(
    store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]  # noqa: F811
) -> None:
    monkeypatch.setenv("SHOP_DATABASE_URL", store_url)
    data_dir, source = tmp_path / "store", write_catalog(tmp_path / "export.jsonl")
    assert run(data_dir, "import", str(source)) == 0
    products = mirror(store_url)
    assert len(products) == 20 and all(available(product) for product in products.values())
    assert products["P00001"].payload["image_url"] == "https://img.example/P00001.jpg"
    index_dir = index_with_random_vectors(data_dir)

    engine = make_engine(store_url)
    try:
        with Session(engine) as session:
            add_order(session, "A-1", "C1", "c1@example.com", "delivered", product_id="P00002")
            session.commit()
    finally:
        engine.dispose()

    changed = {**read_catalog(data_dir / "catalog.jsonl")[0], "price": 99.0}
    assert run(data_dir, "upsert", str(write_jsonl(tmp_path / "changed.jsonl", [changed]))) == 0
    assert float(mirror(store_url)["P00001"].price) == 99.0

    assert run(data_dir, "delete", "P00002", "P09999") == 0
    out = capsys.readouterr().out
    assert "not in the catalog" in out and "P09999" in out and "product mirror updated" in out
    assert "P00002" not in indexed_ids(index_dir)
    products = mirror(store_url)
    assert not available(products["P00002"])  # kept, not deleted: the order still points at it
    assert products["P00002"].title == "Trail shoe 2" and available(products["P00003"]) and "P09999" not in products
    engine = make_engine(store_url)
    try:
        with Session(engine) as session:
            assert session.scalars(select(OrderItem.product_id)).all() == ["P00002"]
    finally:
        engine.dispose()

    # A new import withdraws what it no longer holds and brings back what returns.
    write_catalog(source, count=2)  # P00001, P00002
    assert run(data_dir, "import", str(source)) == 0
    products = mirror(store_url)
    assert available(products["P00002"]) and available(products["P00001"])
    assert float(products["P00001"].price) == 11.0  # the export's price again
    assert not any(available(products[f"P{n:05d}"]) for n in range(3, 21))
    assert len(products) == 20


def test_an_unreachable_store_keeps_the_index_work_and_names_the_catch_up_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    good = f"sqlite:///{tmp_path / 'customers.db'}"
    with socket.socket() as probe:  # a port nothing listens on: the connection is refused at once
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    unreachable = f"postgresql://shop:s3cret@127.0.0.1:{port}/shop"
    data_dir = tmp_path / "store"
    monkeypatch.setenv("SHOP_DATABASE_URL", good)
    assert run(data_dir, "import", str(write_catalog(tmp_path / "export.jsonl"))) == 0
    index_dir = index_with_random_vectors(data_dir)
    capsys.readouterr()

    monkeypatch.setenv("SHOP_DATABASE_URL", unreachable)
    assert run(data_dir, "delete", "P00002") == STORE_NOT_SYNCED
    err = capsys.readouterr().err
    assert "NOT updated" in err and "shop-assistant catalog sync-store" in err and "s3cret" not in err
    assert "P00002" not in indexed_ids(index_dir)  # the index work was done all the same
    assert "P00002" not in {product["id"] for product in read_catalog(data_dir / "catalog.jsonl")}
    assert available(mirror(good)["P00002"])  # the mirror is behind until it is synced

    monkeypatch.setenv("SHOP_DATABASE_URL", good)
    assert run(data_dir, "sync-store") == 0
    products = mirror(good)
    assert not available(products["P00002"]) and len(products) == 20


def test_sync_store_without_a_catalog_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(tmp_path / "empty", "sync-store") == 1
    assert "catalog import" in capsys.readouterr().err


def test_the_next_build_removes_a_crashed_builds_leftovers(tmp_path: Path) -> None:
    data_dir = tmp_path / "store"
    data_dir.mkdir()
    write_catalog(data_dir / "catalog.jsonl")
    index_dir = index_with_random_vectors(data_dir)
    first = index_dir.resolve()
    # What a writer killed mid-build leaves: a half-written building directory and an unswapped link.
    crashed = new_build_dir(index_dir)
    (crashed / "index.faiss").write_bytes(b"half written")
    dangling = index_dir.with_name(f".{index_dir.name}.link-999-1")
    dangling.symlink_to(crashed.name)

    delete_products(data_dir / "catalog.jsonl", index_dir, load_settings(data_dir).embedding_model, ["P00005"])
    leftovers = [path.name for path in versions_dir(index_dir).iterdir() if path.name.startswith(BUILDING_PREFIX)]
    assert leftovers == [] and not dangling.is_symlink()
    assert index_dir.resolve() != first and first.exists()  # the previous version stays for its readers
    assert "P00005" not in indexed_ids(index_dir) and len(indexed_ids(index_dir)) == 19


def test_index_params_come_from_the_settings_with_flags_on_top(tmp_path: Path) -> None:
    settings = load_settings(tmp_path, env={"SHOP_INDEX_ANN_THRESHOLD": "10", "SHOP_INDEX_NPROBE": "2",
                                            "SHOP_INDEX_QUANTIZER": "sq8"})
    assert IndexParams.configured(settings) == IndexParams(ann_threshold=10, nlist=0, nprobe=2, quantizer="sq8")
    assert IndexParams.configured(settings, nprobe=4, ann_threshold=None, file="x.csv") == IndexParams(10, 0, 4, "sq8")
    with pytest.raises(UsageError, match="SHOP_INDEX_QUANTIZER='pq' is not one of flat, sq8"):
        load_settings(tmp_path, env={"SHOP_INDEX_QUANTIZER": "pq"})  # named when the settings are read
    with pytest.raises(ValueError, match="quantizer"):
        IndexParams(quantizer="pq")


def test_demo_setup_builds_with_the_index_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A catalog above ``SHOP_INDEX_ANN_THRESHOLD`` gets an IVF index from demo setup as from the CLI."""
    data_dir = tmp_path / "store"
    data_dir.mkdir()
    import_catalog(DATA / "catalog_small.jsonl", data_dir / "catalog.jsonl")  # present: nothing is generated
    monkeypatch.setenv("SHOP_DATABASE_URL", f"sqlite:///{tmp_path / 'customers.db'}")
    monkeypatch.setenv("SHOP_INDEX_ANN_THRESHOLD", "10")
    monkeypatch.setenv("SHOP_INDEX_NPROBE", "3")
    settings = load_settings(data_dir)
    migrate(settings.database_url)
    set_up_demo_store(settings, progress=False)
    manifest = Manifest.read(settings.index_dir)
    assert manifest.index_params["kind"] == "ivf" and manifest.index_params["nprobe"] == 3
    assert len(mirror(settings.database_url)) == manifest.product_count == 41
