"""normalize_product: the lenient mapping from retailers' exports to the normalized product."""

from __future__ import annotations

import pytest

from catalog_index.colors import color_keys
from catalog_index.schema import CatalogRowError, in_stock, normalize_product, size_key


def test_full_contract_row_passes_through() -> None:
    row = {
        "id": "P00001", "title": "Air Zoom", "description": "Fast.", "brand": "Nike", "category": "shoes",
        "subcategory": "running shoes", "color": "Red", "sizes": ["8", "9", "10"], "price": 79.99, "currency": "usd",
        "rating": 4.3, "stock": {"downtown": 3, "mall": 0}, "image_url": "https://img.example/P00001.jpg",
        "tags": ["running", "mesh"], "sku": "NK-AIRZ-RED", "variant_id": "40071",
    }
    product = normalize_product(row)
    assert product == {**row, "color": "red", "currency": "USD"}


def test_bare_row_gets_empty_defaults() -> None:
    assert normalize_product({"id": 7, "title": "  Lamp  "}) == {
        "id": "7", "title": "Lamp", "description": None, "brand": None, "category": None, "subcategory": None,
        "color": None, "sizes": [], "price": None, "currency": None, "rating": None, "stock": {}, "image_url": None,
        "tags": [], "sku": None, "variant_id": None,
    }


@pytest.mark.parametrize(
    ("row", "field", "expected"),
    [
        ({"product_id": "A", "name": "x"}, "id", "A"),
        ({"sku": "SKU-1", "name": "x"}, "id", "SKU-1"),
        ({"id": "A", "Name": "Chair"}, "title", "Chair"),
        ({"id": "A", "title": "x", "colour": "Grey"}, "color", "grey"),
        ({"id": "A", "title": "x", "shopify_variant_id": 40071}, "variant_id", "40071"),
        ({"id": "A", "title": "x", "price": "$1,299.00"}, "price", 1299.0),
        ({"id": "A", "title": "x", "price": "1.299,00 €"}, "price", 1299.0),
        ({"id": "A", "title": "x", "price": "79,99"}, "price", 79.99),
        ({"id": "A", "title": "x", "price": "£20"}, "currency", "GBP"),
        ({"id": "A", "title": "x", "price": 20}, "currency", "USD"),
        ({"id": "A", "title": "x", "sizes": "8|9|10"}, "sizes", ["8", "9", "10"]),
        ({"id": "A", "title": "x", "size": "8, 9,10"}, "sizes", ["8", "9", "10"]),
        ({"id": "A", "title": "x", "sizes": [8, 9.5, 9.5]}, "sizes", ["8", "9.5"]),
        ({"id": "A", "title": "x", "sizes": '["S", "M"]'}, "sizes", ["S", "M"]),
        ({"id": "A", "title": "x", "tags": "a; b |c"}, "tags", ["a", "b", "c"]),
        ({"id": "A", "title": "x", "stock": '{"mall": "2", "online": 0}'}, "stock", {"mall": 2, "online": 0}),
        ({"id": "A", "title": "x", "quantity": "12"}, "stock", {"all": 12}),
        ({"id": "A", "title": "x", "in_stock": "no"}, "stock", {"all": 0}),
        ({"id": "A", "title": "x", "in_stock": True}, "stock", {"all": 1}),
        ({"id": "A", "title": "x", "category": "Home > Furniture > Chairs"}, "category", "Furniture"),
        ({"id": "A", "title": "x", "category": "Home > Furniture > Chairs"}, "subcategory", "Chairs"),
        ({"id": "A", "title": "x", "breadcrumb": "Garden"}, "category", "Garden"),
        ({"id": "A", "title": "x", "category": "Shoes", "subcategory": "Boots"}, "subcategory", "Boots"),
        ({"id": "A", "title": "x", "average_rating": "4.5"}, "rating", 4.5),
    ],
)
def test_alternative_names_and_shapes(row: dict, field: str, expected: object) -> None:
    assert normalize_product(row)[field] == expected


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ({"title": "no id"}, "line 12: missing id"),
        ({"id": "A"}, "line 12: product A has no title"),
        ({"id": "A", "title": "x", "price": "call us"}, "line 12: price is not a number"),
        ({"id": "A", "title": "x", "in_stock": "maybe"}, "line 12: in_stock is not a yes/no value"),
    ],
)
def test_unusable_rows_name_their_line(row: dict, message: str) -> None:
    with pytest.raises(CatalogRowError, match=message) as error:
        normalize_product(row, line=12)
    assert error.value.line == 12


def test_in_stock_needs_known_positive_stock() -> None:
    assert in_stock({"stock": {"a": 0, "b": 2}})
    assert not in_stock({"stock": {"a": 0}})
    assert not in_stock({"stock": {}})


@pytest.mark.parametrize(("size", "key"), [("M", "m"), ("medium", "m"), ("10.0", "10"), (" 9.5 ", "9.5"), ("X-Large", "xl")])
def test_size_keys(size: str, key: str) -> None:
    assert size_key(size) == key


@pytest.mark.parametrize(
    ("color", "answers_to", "not_to"),
    [
        ("navy", {"navy", "blue"}, {"red"}),
        ("gray", {"grey"}, {"blue"}),
        ("Red/Black", {"red", "black", "red/black"}, {"blue"}),
        ("charcoal", {"charcoal", "grey"}, {"black"}),
        ("blue", {"blue"}, {"navy"}),
    ],
)
def test_color_families(color: str, answers_to: set[str], not_to: set[str]) -> None:
    keys = color_keys(color)
    assert answers_to <= keys
    assert not (not_to & keys)
