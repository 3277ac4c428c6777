"""The catalog embedder's ONNX Runtime backend against sentence-transformers (torch), with the real models.

Needs the search encoder `make encoder` writes (models/encoder/minilm-search).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from assistant.settings import default_embedding_model, load_settings
from catalog_index.artifacts import Manifest
from catalog_index.build import build_index
from catalog_index.embedder import DEFAULT_ONNX_DIR, Embedder, EmbeddingModel, document_text
from catalog_index.errors import IndexUnavailable
from catalog_index.importer import import_catalog, read_catalog
from catalog_index.search import CatalogSearcher

DATA = Path(__file__).parent / "data"
MODEL = default_embedding_model()
TEXTS = [
    "waterproof hiking boots under $150",
    "hi",
    "kids' red rain jacket size 6",
    "Trailmaster Pinnacle Waterproof Mid Hiking Boot. Trailmaster. black. Footwear. From day hikes to multi-day treks, "
    "it keeps you sure-footed; 200 g insulation and a waterproof lining keep toes warm in snow.",
    "¿tienen zapatillas para correr?",
]


@pytest.fixture(scope="module")
def onnx() -> Embedder:
    return Embedder(MODEL, backend="onnx")


@pytest.fixture(scope="module")
def torch() -> Embedder:
    return Embedder(MODEL, backend="torch")


def test_onnx_vectors_are_within_cosine_099_of_torch(onnx: Embedder, torch: Embedder) -> None:
    products = read_catalog(DATA / "catalog_small.jsonl")
    texts = TEXTS + [document_text(product) for product in products[:10]]
    a, b = onnx.embed(texts), torch.embed(texts)
    assert a.shape == b.shape == (len(texts), 384) and a.dtype == np.float32
    assert np.allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-4)
    cosines = np.sum(a * b, axis=1)
    assert cosines.min() >= 0.99, dict(zip(texts, cosines.round(4), strict=True))


def test_backends_name_themselves_and_know_the_same_words(onnx: Embedder, torch: Embedder) -> None:
    manifest = json.loads((DEFAULT_ONNX_DIR / "encoder.json").read_text())
    assert onnx.backend == ("onnx" if manifest["quantization"] == "none" else f"onnx-{manifest['quantization']}")
    assert torch.backend == "torch"
    assert onnx.known_words() == torch.known_words() and "boots" in onnx.known_words()


def test_onnx_refuses_an_export_of_another_model(tmp_path: Path) -> None:
    other = tmp_path / "encoder"
    shutil.copytree(DEFAULT_ONNX_DIR, other)
    manifest = json.loads((other / "encoder.json").read_text())
    manifest["source_fingerprint"] = "0" * 64
    (other / "encoder.json").write_text(json.dumps(manifest))
    with pytest.raises(ValueError, match="not exported from the embedding model"):
        Embedder(MODEL, backend="onnx", onnx_dir=other)
    with pytest.raises(ValueError, match="backend must be one of"):
        Embedder(MODEL, backend="tensorflow")


def test_settings_choose_the_backend(tmp_path: Path) -> None:
    settings = load_settings(tmp_path, env={"SHOP_EMBED_BACKEND": "torch", "SHOP_EMBED_ONNX_DIR": str(tmp_path / "enc")})
    assert settings.embedding == EmbeddingModel(MODEL, "torch", tmp_path / "enc")
    assert load_settings(tmp_path, env={}).embedding == EmbeddingModel(MODEL, "onnx", None)


def test_an_index_built_by_torch_is_searched_by_onnx_alike(tmp_path: Path, onnx: Embedder, torch: Embedder) -> None:
    """The manifest records the backend; the backends' vectors are interchangeable, so a torch index serves ONNX queries."""
    catalog = tmp_path / "catalog.jsonl"
    import_catalog(DATA / "catalog_small.jsonl", catalog)
    manifest = build_index(catalog, tmp_path / "index", MODEL, progress=False, embedder=torch)
    assert Manifest.read(tmp_path / "index").embedding_backend == manifest.embedding_backend == "torch"
    with_torch = CatalogSearcher.load(tmp_path / "index", MODEL, embedder=torch)
    with_onnx = CatalogSearcher.load(tmp_path / "index", MODEL, embedder=onnx)
    for query in ("waterproof hiking boots", "something warm for winter", "running shoes"):
        assert [h.product["id"] for h in with_onnx.search(query, k=5).hits] == [h.product["id"] for h in with_torch.search(query, k=5).hits]


def test_an_index_of_an_unknown_backend_is_refused(tmp_path: Path, onnx: Embedder) -> None:
    catalog = tmp_path / "catalog.jsonl"
    import_catalog(DATA / "catalog_small.jsonl", catalog)
    build_index(catalog, tmp_path / "index", EmbeddingModel(MODEL, "onnx"), progress=False, embedder=onnx)
    version = tmp_path / "index"
    manifest_path = version / "manifest.json"
    data = json.loads(manifest_path.read_text())
    assert data["embedding_backend"] == onnx.backend
    data["embedding_backend"] = "onnx-int4-experimental"
    manifest_path.write_text(json.dumps(data))
    with pytest.raises(IndexUnavailable, match="backend 'onnx-int4-experimental'"):
        CatalogSearcher.load(tmp_path / "index", MODEL, embedder=onnx)


def test_the_search_encoder_is_int8_only_where_its_vectors_hold(tmp_path: Path) -> None:
    """``make encoder``'s derivation: int8 kept at cosine >= 0.99 of torch on the check sentences, else the fp32 graph."""
    from assistant.encoder_quantize import MIN_COSINE, derive

    source = DEFAULT_ONNX_DIR.parent / "minilm"
    manifest = derive(source, tmp_path / "search")
    written = json.loads((tmp_path / "search" / "encoder.json").read_text())
    assert written == manifest and written["source_fingerprint"] == json.loads((source / "encoder.json").read_text())["source_fingerprint"]
    if written["quantization"] == "none":
        assert written["int8_check_min_cosine"] < MIN_COSINE and "int8_refused" in written
        assert (tmp_path / "search" / "model.onnx").read_bytes() == (source / "model.onnx").read_bytes()
    else:
        assert written["check_min_cosine"] >= MIN_COSINE
    embedder = Embedder(MODEL, backend="onnx", onnx_dir=tmp_path / "search")
    assert float(np.sum(embedder.embed(TEXTS) * Embedder(MODEL, backend="onnx", onnx_dir=source).embed(TEXTS), axis=1).min()) >= MIN_COSINE
