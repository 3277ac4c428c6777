"""CatalogSearcher.run / .search: relevance, hard filters that never starve, exact matches, paging, parsed requests."""

from __future__ import annotations

import json
import random
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from assistant.settings import default_embedding_model
from catalog_index.build import build_index
from catalog_index.colors import canonical_color, color_keys
from catalog_index.embedder import Embedder
from catalog_index.importer import import_catalog
from catalog_index.request import SearchRequest
from catalog_index.search import CatalogSearcher, SearchFilters, SearchResult, hit_to_json, result_to_json

DATA = Path(__file__).parent / "data"
MODEL = default_embedding_model()
QUERIES = ["waterproof hiking boots", "something warm for winter", "coffee", "chair", "running shoes", "tent", "", "gift"]


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    return Embedder(MODEL)


@pytest.fixture(scope="module")
def searcher(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> CatalogSearcher:
    root = tmp_path_factory.mktemp("catalog-search")
    import_catalog(DATA / "catalog_small.jsonl", root / "catalog.jsonl")
    build_index(root / "catalog.jsonl", root / "index", MODEL, progress=False, embedder=embedder)
    return CatalogSearcher.load(root / "index", MODEL, embedder=embedder)


def parsed_search(searcher: CatalogSearcher, text: str, k: int) -> SearchResult:
    """What a shopper's words find: the request chat, the REST API and the CLI build."""
    return searcher.run(SearchRequest.parse(text, searcher.vocabulary, k=k))


def violations(product: dict[str, Any], filters: SearchFilters) -> list[str]:
    """An independent statement of what each filter means, to check the searcher against."""
    found = []
    price = product.get("price")
    if filters.price_min is not None and (price is None or price < filters.price_min):
        found.append("price_min")
    if filters.price_max is not None and (price is None or price > filters.price_max):
        found.append("price_max")
    if filters.colors and not {canonical_color(c) for c in filters.colors} & color_keys(product.get("color")):
        found.append("colors")
    if filters.brands and (product.get("brand") or "").lower() not in {b.lower() for b in filters.brands}:
        found.append("brands")
    if filters.sizes and not {s.lower() for s in filters.sizes} & {s.lower() for s in product.get("sizes") or []}:
        found.append("sizes")
    if filters.category and filters.category.lower() not in {
        (product.get("category") or "").lower(), (product.get("subcategory") or "").lower()
    }:
        found.append("category")
    if filters.in_stock and sum((product.get("stock") or {}).values()) <= 0:
        found.append("in_stock")
    if product["id"] in filters.exclude_ids:
        found.append("exclude_ids")
    return found


def random_filters(rng: random.Random, products: list[dict[str, Any]]) -> SearchFilters:
    prices = sorted(p["price"] for p in products if p.get("price") is not None)
    filters = SearchFilters()
    if rng.random() < 0.4:
        filters.price_min = rng.choice(prices)
    if rng.random() < 0.5:
        filters.price_max = rng.choice(prices) + rng.choice([0, 0.5])
    if rng.random() < 0.35:
        filters.colors = rng.sample(["blue", "red", "grey", "gray", "black", "navy", "green", "brown", "white"], rng.randint(1, 2))
    if rng.random() < 0.3:
        filters.brands = rng.sample(sorted({p["brand"] for p in products if p.get("brand")}), rng.randint(1, 2))
    if rng.random() < 0.3:
        filters.sizes = rng.sample(["8", "9", "10", "10.5", "M", "L", "XL", "Regular"], rng.randint(1, 2))
    if rng.random() < 0.35:
        filters.category = rng.choice(sorted({p[k] for p in products for k in ("category", "subcategory") if p.get(k)}))
    filters.in_stock = rng.random() < 0.3
    if rng.random() < 0.2:
        filters.exclude_ids = rng.sample([p["id"] for p in products], 5)
    return filters


def test_waterproof_hiking_boots_under_150(searcher: CatalogSearcher) -> None:
    result = parsed_search(searcher, "waterproof hiking boots under 150", k=10)
    ids = [hit.product["id"] for hit in result.hits]
    assert result.applied_filters == {"price_max": 150.0, "category": "Hiking Boots"}
    assert set(ids) == {"B001", "B002", "B004", "B005"} and result.total_matching == 4
    assert all(hit.product["subcategory"] == "Hiking Boots" and hit.product["price"] < 150 for hit in result.hits)
    assert ids[-1] == "B004"  # the only one that is not waterproof ranks last


def test_random_filter_combinations_never_violate_and_never_starve(searcher: CatalogSearcher) -> None:
    all_products = [searcher.get(pid) for pid in searcher.product_ids]
    rng = random.Random(20240611)
    saw_subset = saw_overfetch = saw_empty = False
    for _ in range(250):
        filters = random_filters(rng, all_products)
        k, offset = rng.randint(1, 12), rng.choice([0, 0, 3, 10])
        query = rng.choice(QUERIES)
        matching = [p for p in all_products if not violations(p, filters)]
        result = searcher.search(query, k=k, offset=offset, filters=filters)
        ids = [hit.product["id"] for hit in result.hits]
        assert result.total_matching == len(matching), filters
        assert len(ids) == min(k, max(0, len(matching) - offset)), (query, filters, k, offset)
        assert len(set(ids)) == len(ids)
        for hit in result.hits:
            assert violations(hit.product, filters) == [], (hit.product["id"], filters)
        saw_subset |= 0 < len(matching) <= 10
        saw_overfetch |= len(matching) > 10 and bool(result.hits)
        saw_empty |= not matching
    assert saw_subset and saw_overfetch and saw_empty


def test_exact_sku_and_title_rank_first(searcher: CatalogSearcher) -> None:
    for product_id in ("B003", "K002", "T005", "H004", "A001"):
        product = searcher.get(product_id)
        assert searcher.search(product["sku"], k=3).hits[0].product["id"] == product_id
        assert searcher.search(product["sku"].lower(), k=3).hits[0].product["id"] == product_id
        assert searcher.search(product["title"], k=3).hits[0].product["id"] == product_id
    assert searcher.search("do you have SF-VEL-BLU in a size 9?", k=1).hits[0].product["id"] == "S002"


def test_exact_match_still_obeys_filters(searcher: CatalogSearcher) -> None:
    result = searcher.search("NW-ALPEXP-BLK", k=5, filters=SearchFilters(price_max=150))
    assert "B003" not in [hit.product["id"] for hit in result.hits]


def test_colour_family_filter(searcher: CatalogSearcher) -> None:
    blue = {hit.product["color"] for hit in searcher.search("", k=50, filters=SearchFilters(colors=["blue"])).hits}
    navy = {hit.product["color"] for hit in searcher.search("", k=50, filters=SearchFilters(colors=["navy"])).hits}
    grey = {hit.product["color"] for hit in searcher.search("", k=50, filters=SearchFilters(colors=["gray"])).hits}
    assert blue == {"blue", "navy"} and navy == {"navy"}
    assert grey == {"grey", "gray", "charcoal", "silver"}


def test_size_filter_skips_products_without_sizes(searcher: CatalogSearcher) -> None:
    result = searcher.search("chair", k=50, filters=SearchFilters(sizes=["M"]))
    assert result.hits and all("M" in hit.product["sizes"] for hit in result.hits)


def test_pages_continue_without_overlap(searcher: CatalogSearcher) -> None:
    top = [hit.product["id"] for hit in searcher.search("outdoor gear", k=12).hits]
    pages = [hit.product["id"] for offset in (0, 4, 8) for hit in searcher.search("outdoor gear", k=4, offset=offset).hits]
    assert pages == top


def test_query_without_text_browses_by_rating_or_price(searcher: CatalogSearcher) -> None:
    by_rating = parsed_search(searcher, "under $50", k=5)
    ratings = [hit.product["rating"] or 0 for hit in by_rating.hits]
    assert ratings == sorted(ratings, reverse=True) and by_rating.text == ""
    cheapest = parsed_search(searcher, "cheap, under 50", k=3)
    assert [hit.product["price"] for hit in cheapest.hits] == sorted(hit.product["price"] for hit in cheapest.hits)


def test_budget_words_favour_cheaper_products(searcher: CatalogSearcher) -> None:
    plain = [hit.product["id"] for hit in parsed_search(searcher, "tent", k=4).hits]
    cheap = [hit.product["id"] for hit in parsed_search(searcher, "cheap tent", k=4).hits]
    assert cheap[0] == "T004" and plain != cheap


def test_text_constraints_override_slot_filters(searcher: CatalogSearcher) -> None:
    slots = SearchFilters(price_max=50, colors=["red"], exclude_ids=["S005"])
    said = SearchRequest.parse("running shoes under 100", searcher.vocabulary)
    result = searcher.run(replace(said, filters=slots.overridden_by(said.filters)))
    assert result.applied_filters == {"price_max": 100.0, "colors": ["red"], "category": "Running Shoes", "exclude_ids": ["S005"]}
    assert [hit.product["id"] for hit in result.hits] == ["S001"]


def test_similar_excludes_itself_and_obeys_filters(searcher: CatalogSearcher) -> None:
    similar = searcher.similar("B001", k=3)
    assert len(similar) == 3 and "B001" not in [hit.product["id"] for hit in similar]
    assert all(hit.product["subcategory"] == "Hiking Boots" for hit in similar)
    cheap = searcher.similar("B001", k=5, filters=SearchFilters(price_max=60))
    assert cheap and all(hit.product["price"] <= 60 for hit in cheap)
    with pytest.raises(KeyError):
        searcher.similar("NOPE", k=3)


def test_get_and_vocabulary(searcher: CatalogSearcher) -> None:
    assert searcher.get("K005")["title"] == "Burr Coffee Grinder"
    assert searcher.get("missing") is None
    assert {"trailpeak", "northwall"} <= set(searcher.vocabulary.brands)
    assert {"hiking boots", "furniture"} <= set(searcher.vocabulary.categories)
    assert "charcoal" in searcher.vocabulary.colors


def test_json_helpers(searcher: CatalogSearcher) -> None:
    result = parsed_search(searcher, "blue rain jacket", k=2)
    payload = result_to_json(result)
    assert payload["applied_filters"] == {"colors": ["blue"], "category": "Rain Jackets"}
    assert payload["total_matching"] == 1 and payload["text"] == "rain jacket"
    assert payload["hits"] == [hit_to_json(result.hits[0])]
    assert set(payload["hits"][0]) >= {"id", "title", "price", "currency", "score"}
    json.dumps(payload)


def test_bare_title_only_catalog(tmp_path: Path, embedder: Embedder) -> None:
    import_catalog(DATA / "catalog_bare.csv", tmp_path / "catalog.jsonl")
    build_index(tmp_path / "catalog.jsonl", tmp_path / "index", MODEL, progress=False, embedder=embedder)
    bare = CatalogSearcher.load(tmp_path / "index", MODEL, embedder=embedder)
    assert bare.search("something to listen to music", k=1).hits[0].product["id"] == "C6"
    jeans = parsed_search(bare, "blue jeans under 30 in size 32", k=3)  # no such data: all of it is relevance text
    assert jeans.applied_filters == {} and jeans.text == "blue jeans under 30 in size 32"
    assert jeans.hits[0].product["id"] == "C2"
    unpriced = bare.search("mug", k=5, filters=SearchFilters(price_max=100))
    assert unpriced.hits == [] and unpriced.total_matching == 0
