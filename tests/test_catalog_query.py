"""parse_query and SearchRequest: constraints out of free text, against a catalog's vocabulary."""

from __future__ import annotations

from dataclasses import replace

import pytest

from catalog_index.filters import SearchFilters
from catalog_index.query import ParsedQuery, Vocabulary, category_named, parse_query
from catalog_index.request import SearchRequest

VOCABULARY = Vocabulary.from_products(
    [
        {"brand": "Trailpeak", "color": "navy", "category": "Shoes", "subcategory": "Hiking Boots",
         "price": 99.0, "sizes": ["9"], "stock": {"online": 1}},
        {"brand": "The North Face", "color": "Red/Black", "category": "Outerwear", "subcategory": "Rain Jackets"},
        {"brand": "Oakhaus", "color": "sage", "category": "Kitchen", "subcategory": "Wine Glasses"},
    ]
)


def parsed(query: str, **expected: object) -> tuple[str, ParsedQuery]:
    """A table row: the query, and what parsing must find (``text`` defaults to empty)."""
    return query, ParsedQuery(**{"text": "", **expected})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        parsed("waterproof hiking boots under 150", text="waterproof hiking boots", price_max=150.0, category="Hiking Boots"),
        parsed("red running shoes under $80", text="running shoes", price_max=80.0, colors=["red"], category="Shoes"),
        parsed("lamp below 50", text="lamp", price_max=50.0),
        parsed("lamp less than 50 dollars", text="lamp", price_max=50.0),
        parsed("<50 lamp", text="lamp", price_max=50.0),
        parsed("lamp max 50", text="lamp", price_max=50.0),
        parsed("lamp up to $49.99", text="lamp", price_max=49.99),
        parsed("laptop $1,200 or less", text="laptop", price_max=1200.0),
        parsed("lamp between 20 and 40", text="lamp", price_min=20.0, price_max=40.0),
        parsed("lamp 20-40$", text="lamp", price_min=20.0, price_max=40.0),
        parsed("lamp $20 - $40", text="lamp", price_min=20.0, price_max=40.0),
        parsed("lamp from 20 to 40", text="lamp", price_min=20.0, price_max=40.0),
        parsed("lamp between 40 and 20", text="lamp", price_min=20.0, price_max=40.0),
        parsed("lamp over 100", text="lamp", price_min=100.0),
        parsed("lamp at least 100", text="lamp", price_min=100.0),
        parsed("lamp 100 and up", text="lamp", price_min=100.0),
        parsed("cheap lamp", text="lamp", budget=True),
        parsed("budget lamp", text="lamp", budget=True),
        parsed("boots size 10", text="boots", sizes=["10"]),
        parsed("shirt in size M", text="shirt", sizes=["M"]),
        parsed("shirt size medium", text="shirt", sizes=["M"]),
        parsed("trail shoe sz 9.5", text="trail shoe", sizes=["9.5"], category="Shoes"),
        parsed("grey sofa", text="sofa", colors=["grey"]),
        parsed("gray sofa", text="sofa", colors=["grey"]),
        parsed("navy hiking boot in stock", text="hiking boot", colors=["navy"], category="Hiking Boots", in_stock=True),
        parsed("sage mug", text="mug", colors=["sage"]),  # a colour only this catalog uses
        parsed("white wine glasses", text="wine glasses", colors=["white"], category="Wine Glasses"),
        parsed("The North Face rain jacket", text="rain jacket", brands=["The North Face"], category="Rain Jackets"),
        parsed("trailpeak or oakhaus", brands=["Trailpeak", "Oakhaus"]),
        parsed("tent for 4 people under 300", text="tent for 4 people", price_max=300.0),
        parsed("5 kg dumbbells under 40", text="5 kg dumbbells", price_max=40.0),
        parsed("under $20", price_max=20.0),
        parsed("gift ideas", text="gift ideas"),
    ],
)
def test_parse_query_table(query: str, expected: ParsedQuery) -> None:
    assert parse_query(query, VOCABULARY) == expected


def test_brands_and_categories_need_a_vocabulary() -> None:
    assert parse_query("trailpeak hiking boots") == ParsedQuery(text="trailpeak hiking boots")


def test_constraints_on_attributes_the_catalog_lacks_stay_text() -> None:
    titles_only = Vocabulary.from_products([{"id": "1", "title": "Mug", "sizes": [], "stock": {}}])
    assert parse_query("blue mug under $10 in stock size M", titles_only) == ParsedQuery(
        text="blue mug under $10 in stock size M"
    )


def test_category_named_reads_only_the_category() -> None:
    assert category_named("hiking boot", VOCABULARY) == "Hiking Boots"
    assert category_named("red wine glasses under $20", VOCABULARY) == "Wine Glasses"
    assert category_named("lamp", VOCABULARY) is None


def test_a_request_is_parsed_once_then_changed_by_replace() -> None:
    request = SearchRequest.parse(" cheap red trailpeak hiking boots under $150 ", VOCABULARY, k=5)
    assert (request.query, request.text, request.prefer_low_price, request.k, request.offset) == (
        "cheap red trailpeak hiking boots under $150", "hiking boots", True, 5, 0
    )
    assert request.filters == SearchFilters(price_max=150.0, colors=["red"], brands=["Trailpeak"], category="Hiking Boots")
    blue = request.with_filters(colors=["blue"])
    assert request.filters.colors == ["red"] and blue.filters.colors == ["blue"] and blue.text == request.text
    looser = request.overridden_by(SearchFilters(price_max=200.0))
    assert looser.filters.price_max == 200.0 and looser.filters.colors == ["red"]
    assert request.page(5, 10) == replace(request, offset=10)
