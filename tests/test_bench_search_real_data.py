"""The real-data search bench's dataset derivation: one product per title, grades 0-3, a stable split by query."""

from __future__ import annotations

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
