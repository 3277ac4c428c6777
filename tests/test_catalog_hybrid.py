"""Hybrid (dense + BM25) search: exact matches first, hard filters, the stored BM25 part, bare catalogs."""

from __future__ import annotations

import json
import random
import shutil
from dataclasses import asdict, replace
from pathlib import Path

import pytest

from assistant.settings import default_embedding_model
from catalog_index.artifacts import Manifest
from catalog_index.build import build_index, ensure_index, index_status
from catalog_index.embedder import Embedder
from catalog_index.errors import IndexUnavailable
from catalog_index.fusion import DEFAULT_FUSION, reciprocal_rank_fusion, weighted_blend
from catalog_index.importer import import_catalog, read_catalog
from catalog_index.lexical import LEXICAL_DIR, lexical_tokens
from catalog_index.request import SearchRequest
from catalog_index.search import CatalogSearcher
from tests.test_catalog_search import random_filters, violations

DATA = Path(__file__).parent / "data"
MODEL = default_embedding_model()
FUSIONS = [replace(DEFAULT_FUSION, method="rrf"), replace(DEFAULT_FUSION, method="blend")]


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    return Embedder(MODEL)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("catalog-hybrid")
    import_catalog(DATA / "catalog_small.jsonl", root / "catalog.jsonl")
    build_index(root / "catalog.jsonl", root / "index", MODEL, progress=False, embedder=embedder)
    return root / "catalog.jsonl", root / "index"


@pytest.fixture(scope="module", params=FUSIONS, ids=lambda config: config.method)
def searcher(request: pytest.FixtureRequest, built: tuple[Path, Path], embedder: Embedder) -> CatalogSearcher:
    return CatalogSearcher.load(built[1], MODEL, embedder=embedder, fusion=request.param)


def copy_of(built: tuple[Path, Path], tmp_path: Path) -> tuple[Path, Path]:
    shutil.copy(built[0], tmp_path / "catalog.jsonl")
    shutil.copytree(built[1], tmp_path / "index")
    return tmp_path / "catalog.jsonl", tmp_path / "index"


def test_tokens_keep_codes_whole_and_split() -> None:
    terms = lexical_tokens("USB-C 65W Chargers for the WH-1000XM4")
    assert {"usb-c", "usbc", "usb", "c", "65w", "65", "charger", "wh-1000xm4", "wh1000xm4", "1000xm4"} <= set(terms)
    assert "the" not in terms and "for" not in terms
    assert lexical_tokens("comfy couches") == ["comfi", "couch"]


def test_fusions_score_in_unit_range_and_reward_agreement() -> None:
    dense = {1: 0.9, 2: 0.8, 3: 0.1}
    lexical = {1: 7.0, 3: 9.0, 4: 2.0}
    for fused in (reciprocal_rank_fusion(dense, lexical, rrf_k=60, dense_weight=0.5), weighted_blend(dense, lexical, 0.5)):
        assert set(fused) == {1, 2, 3, 4}
        assert all(0.0 <= score <= 1.0 for score in fused.values())
        assert max(fused, key=fused.__getitem__) == 1  # high in both legs beats high in one


def test_exact_sku_and_title_rank_first(searcher: CatalogSearcher, built: tuple[Path, Path]) -> None:
    products = [product for product in read_catalog(built[0]) if product.get("sku")]
    for product in products:
        for query in (product["sku"], product["sku"].lower(), f"do you have {product['sku']} in stock"):
            top = searcher.search(query, k=3).hits[0]
            assert top.product["id"] == product["id"], query
            assert top.score > searcher.search(query, k=3).hits[1].score
    unique_titles = [p for p in products if sum(q["title"] == p["title"] for q in products) == 1]
    for product in unique_titles:
        assert searcher.search(product["title"], k=1).hits[0].product["id"] == product["id"], product["title"]


def test_model_and_brand_words_hit(searcher: CatalogSearcher) -> None:
    assert {hit.product["id"] for hit in searcher.search("velocity", k=2).hits} == {"S001", "S002"}
    assert searcher.search("stormshell", k=1).hits[0].product["id"] == "J001"
    assert searcher.search("6-person tent", k=1).hits[0].product["id"] == "T002"


def test_typos_are_corrected_toward_catalog_words(searcher: CatalogSearcher) -> None:
    result = searcher.search("stormshel jacket", k=1)
    assert result.text == "stormshell jacket"
    assert result.hits[0].product["id"] == "J001"


def test_random_filters_never_violated_nor_starved(searcher: CatalogSearcher, built: tuple[Path, Path]) -> None:
    products = read_catalog(built[0])
    rng = random.Random(7)
    texts = ["waterproof hiking boots", "TP-SUMMIT-BRN", "velocity", "warm jacket", "tent", "chair", "zzqx unknown words", "gift"]
    for _ in range(200):
        filters = random_filters(rng, products)
        text, k = rng.choice(texts), rng.choice([1, 3, 10])
        result = searcher.search(text, k=k, filters=filters)
        passing = [p for p in products if not violations(p, filters)]
        assert result.total_matching == len(passing)
        assert len(result.hits) == min(k, len(passing)), (text, filters)
        for hit in result.hits:
            assert violations(hit.product, filters) == [], (text, filters, hit.product["id"])


def test_missing_lexical_part_is_refused_then_rebuilt_from_stored_vectors(built: tuple[Path, Path], tmp_path: Path) -> None:
    catalog, index_dir = copy_of(built, tmp_path)
    before = Manifest.read(index_dir)
    shutil.rmtree(index_dir / LEXICAL_DIR)
    with pytest.raises(IndexUnavailable, match="lexical/ is missing"):
        CatalogSearcher.load(index_dir, MODEL)
    assert index_status(catalog, index_dir, MODEL).state == "missing"
    rebuilt = ensure_index(catalog, index_dir, MODEL, progress=False)
    assert rebuilt.index_sha256 == before.index_sha256  # same vectors: nothing was embedded again
    assert rebuilt.lexical_sha256 == before.lexical_sha256
    assert index_status(catalog, index_dir, MODEL).ok


def test_corrupted_lexical_part_is_refused(built: tuple[Path, Path], tmp_path: Path) -> None:
    _, index_dir = copy_of(built, tmp_path)
    vocab = index_dir / LEXICAL_DIR / "title" / "vocab.index.json"
    vocab.write_text(vocab.read_text().replace('"boot"', '"bot"'))
    with pytest.raises(IndexUnavailable, match="corrupted"):
        CatalogSearcher.load(index_dir, MODEL)


def test_index_without_or_with_other_lexical_format_is_refused(built: tuple[Path, Path], tmp_path: Path) -> None:
    _, index_dir = copy_of(built, tmp_path)
    manifest = asdict(Manifest.read(index_dir))
    for changes, message in (({"lexical_format": "bm25s-0.0/other"}, "lexical format"), ({"lexical_sha256": ""}, "no lexical")):
        (index_dir / "manifest.json").write_text(json.dumps({**manifest, **changes}))
        with pytest.raises(IndexUnavailable, match=message):
            CatalogSearcher.load(index_dir, MODEL)


def test_titles_only_catalog_searches_well(tmp_path: Path, embedder: Embedder) -> None:
    bare = [{"id": p["id"], "title": p["title"]} for p in read_catalog(DATA / "catalog_small.jsonl") if p.get("id") and p.get("title")]
    bare = list({p["id"]: p for p in bare}.values())
    (tmp_path / "bare.jsonl").write_text("".join(json.dumps(p) + "\n" for p in bare))
    import_catalog(tmp_path / "bare.jsonl", tmp_path / "catalog.jsonl")
    build_index(tmp_path / "catalog.jsonl", tmp_path / "index", MODEL, progress=False, embedder=embedder)
    for config in FUSIONS:
        searcher = CatalogSearcher.load(tmp_path / "index", MODEL, embedder=embedder, fusion=config)
        expected = {
            "velocity running shoes": {"S001", "S002"},
            "stormshell": {"J001"},
            "family tent for six": {"T002"},
            "something to sleep in outdoors": {"T005", "T006"},
            "waterproof hikng boots": {"B001", "B002", "B003", "B004", "B005", "B006"},
            "sofa for a small room": {"H006", "H005"},
        }
        for query, wanted in expected.items():
            top = searcher.run(SearchRequest.parse(query, searcher.vocabulary, k=1)).hits[0]
            assert top.product["id"] in wanted, (config.method, query)


def test_default_fusion_is_a_fused_method() -> None:
    assert DEFAULT_FUSION.method in ("rrf", "blend")  # a single leg must never ship as the default
