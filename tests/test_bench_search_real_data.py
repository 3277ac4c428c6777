"""The real-data search benches' dataset derivation: one product per title, grades 0-3, a stable split by query;
Best Buy's grades from click shares; the reserved WANDS export (evaluation only)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import search_reserved as reserved
from bench.datasets import search_bestbuy
from bench.datasets.search_crowdflower import derive, split_of


def _row(query: str, title: str, grade: int) -> dict[str, str]:
    return {"query": query, "product_title": title, "median_relevance": str(grade)}


def test_titles_become_products_and_grades_start_at_zero() -> None:
    rows = [
        _row("red kettle", "Red Kettle 1.7 L", 4),
        _row("red  kettle", "Red Kettle  1.7 L", 2),  # same query and title, spaced differently: the best grade stays
        _row("red kettle", "Toaster", 1),
        _row("toaster", "Toaster", 4),  # the same product judged under another query
        _row("", "Empty query", 4),
    ]
    products, queries = derive(rows)
    assert products == [{"id": "cf-00001", "title": "Red Kettle 1.7 L"}, {"id": "cf-00002", "title": "Toaster"}]
    by_query = {query["query"]: query for query in queries}
    assert set(by_query) == {"red kettle", "toaster"}
    assert by_query["red kettle"]["judgments"] == {"cf-00001": 3, "cf-00002": 0}
    assert by_query["toaster"]["judgments"] == {"cf-00002": 3}


def test_split_is_by_query_and_stable() -> None:
    queries = [f"query {n}" for n in range(400)]
    splits = [split_of(query) for query in queries]
    assert splits == [split_of(query) for query in queries]
    assert set(splits) == {"tune", "test"} and 150 < splits.count("tune") < 250


def test_bestbuy_grades_follow_click_shares_and_tags_are_not_queries() -> None:
    names = {"1": "Halo: Reach", "2": "Halo 3: ODST", "3": "Gears of War 3"}
    clicks = [{"sku": "1", "query": "Halo"}] * 6 + [{"sku": "2", "query": " halo "}] * 2 + [{"sku": "3", "query": "halo"}] * 1
    clicks += [{"sku": "3", "query": "20110801_GOW3"}] * 9  # a campaign tag logged as a query
    clicks += [{"sku": "3", "query": "gears"}] * 4 + [{"sku": "9", "query": "gears"}] * 3  # too few clicks on catalog products
    products, queries = search_bestbuy.derive(names, clicks)
    assert [product["id"] for product in products] == ["bb-1", "bb-2", "bb-3"]
    assert [query["query"] for query in queries] == ["halo"]
    assert queries[0]["judgments"] == {"bb-1": 3, "bb-2": 2, "bb-3": 2}  # shares 6/9, 2/9, 1/9
    assert search_bestbuy.grade(0.111, 1) == 2 and search_bestbuy.grade(0.05, 1) == 0 and search_bestbuy.grade(0.05, 2) == 1


def test_reserved_wands_export_is_bare_and_grades_follow_the_labels(tmp_path: Path) -> None:
    products = [
        {"product_id": "1", "product_name": "Solid Wood  Coffee Table", "product_class": "Coffee & Cocktail Tables"},
        {"product_id": "2", "product_name": "Salon Chair", "product_class": "Massage Chairs"},
        {"product_id": "3", "product_name": "", "product_class": "Rugs"},  # no title: not exported
    ]
    queries = [{"query_id": "0", "query": "coffee  table"}, {"query_id": "1", "query": "rug"}]
    labels = [
        {"query_id": "0", "product_id": "1", "label": "Exact"},
        {"query_id": "0", "product_id": "2", "label": "Irrelevant"},
        {"query_id": "1", "product_id": "2", "label": "Irrelevant"},  # nothing relevant: the query is left out
        {"query_id": "1", "product_id": "3", "label": "Exact"},  # a product not exported
    ]
    catalog, judged = reserved.derive(products, queries, labels, with_category=False)
    assert catalog == [{"id": "w-1", "title": "Solid Wood Coffee Table"}, {"id": "w-2", "title": "Salon Chair"}]
    assert judged == [{"query": "coffee table", "judgments": {"w-1": 2, "w-2": 0}}]
    with_category, _ = reserved.derive(products, queries, labels, with_category=True)
    assert with_category[0]["category"] == "Coffee & Cocktail Tables"


def test_reserved_source_without_the_large_files_says_how_to_get_them(tmp_path: Path) -> None:
    (tmp_path / "dataset").mkdir()
    (tmp_path / "dataset" / "query.csv").write_text("query_id\tquery\tquery_class\n0\tsalon chair\tMassage Chairs\n")
    assert reserved.tsv_rows(reserved.read_member(tmp_path, "query.csv")) == [
        {"query_id": "0", "query": "salon chair", "query_class": "Massage Chairs"}
    ]
    with pytest.raises(SystemExit, match="clone the repository wayfair/WANDS"):
        reserved.read_member(tmp_path, "product.csv")
