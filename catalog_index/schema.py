"""The normalized product (docs/contracts.md) and the lenient mapping from a retailer's export.

Retailers export catalogs from many systems, so the mapping accepts the common column
names and value shapes (``name`` for ``title``, ``"$1,299.00"`` prices, ``"8|9|10"`` sizes,
``"Home > Furniture > Chairs"`` category paths, a per-store stock dict or a single count)
and demands only an ``id`` and a ``title``.  Everything downstream reads only the
normalized shape, so it never has to guess again.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any, Required, TypedDict


class Product(TypedDict, total=False):
    """One line of ``catalog.jsonl``: what travels between the catalog, search, actions and recommender.

    ``normalize_product`` fills every field (absent values are ``None`` / ``[]`` / ``{}``); only
    ``id`` and ``title`` are required, because a bare export or a hand-made test product holds
    no more, and every reader must cope with that (``product.get("price")``, not ``product["price"]``).
    """

    id: Required[str]
    title: Required[str]
    description: str | None
    brand: str | None
    category: str | None
    subcategory: str | None
    color: str | None  # lower-case
    sizes: list[str]
    price: float | None  # in ``currency``
    currency: str | None
    rating: float | None
    stock: dict[str, int]  # store or channel -> units on hand
    image_url: str | None
    tags: list[str]
    sku: str | None
    variant_id: str | None  # the storefront's id of this size/colour variant (cart links, checkout)


class CatalogRowError(ValueError):
    """A row that cannot become a product; carries its line number for the import report."""

    def __init__(self, line: int | None, message: str) -> None:
        super().__init__(f"line {line}: {message}" if line is not None else message)
        self.line = line
        self.reason = message


# normalized field -> accepted source names, first present wins (compared case-insensitively)
ALIASES: dict[str, tuple[str, ...]] = {
    "id": ("id", "product_id", "productid", "item_id", "sku", "handle"),
    "title": ("title", "name", "product_name", "product_title", "item_name"),
    "variant_id": ("variant_id", "variantid", "variant", "variation_id", "shopify_variant_id"),
    "description": ("description", "body", "body_html", "long_description", "short_description", "details"),
    "brand": ("brand", "vendor", "manufacturer", "brand_name"),
    "category": ("category", "product_type", "type", "department"),
    "subcategory": ("subcategory", "sub_category", "subtype"),
    "category_path": ("category_path", "breadcrumb", "google_product_category", "categories"),
    "color": ("color", "colour", "color_name", "colour_name"),
    "sizes": ("sizes", "size", "available_sizes"),
    "price": ("price", "sale_price", "current_price", "price_usd", "amount"),
    "currency": ("currency", "currency_code", "price_currency"),
    "rating": ("rating", "average_rating", "avg_rating", "stars", "review_rating"),
    "stock": ("stock", "inventory", "stock_by_store", "quantity", "qty", "inventory_quantity", "stock_quantity"),
    "in_stock": ("in_stock", "available", "availability", "is_available"),
    "image_url": ("image_url", "image", "image_link", "imageurl", "img", "thumbnail"),
    "tags": ("tags", "keywords", "labels"),
    "sku": ("sku", "mpn", "gtin", "barcode"),
}

DEFAULT_CURRENCY = "USD"  # a bare number with no currency column and no symbol
CURRENCY_SYMBOLS = {"$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY", "₹": "INR"}
_LIST_SEPARATORS = re.compile(r"[|;,]")
_CATEGORY_SEPARATORS = re.compile(r"\s*(?:>|/|›|»|\|)\s*")
_TRUE = {"true", "yes", "y", "1", "in stock", "in_stock", "instock", "available"}
_FALSE = {"false", "no", "n", "0", "out of stock", "out_of_stock", "outofstock", "unavailable", "sold out"}


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or value == [] or value == {}


def _pick(row: dict[str, Any], field: str) -> Any:
    for name in ALIASES[field]:
        value = row.get(name)
        if not _blank(value):
            return value
    return None


def _text(value: Any) -> str | None:
    if _blank(value):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return " ".join(str(value).split())


def _number(value: Any, field: str, line: int | None) -> float | None:
    """Parse ``79.99``, ``"$1,299.00"``, ``"1.299,00 €"`` style values; ``None`` when blank."""
    if _blank(value):
        return None
    if isinstance(value, bool):
        raise CatalogRowError(line, f"{field} is not a number: {value!r}")
    if isinstance(value, (int, float)):
        return float(value)
    text = re.sub(r"[^\d.,\-]", "", str(value))
    if re.fullmatch(r"-?\d{1,3}(\.\d{3})+(,\d+)?", text):  # European "1.299,00"
        text = text.replace(".", "").replace(",", ".")
    elif re.fullmatch(r"-?\d+,\d{1,2}", text):  # "79,99"
        text = text.replace(",", ".")
    else:
        text = text.replace(",", "")
    try:
        return float(text)
    except ValueError:
        raise CatalogRowError(line, f"{field} is not a number: {value!r}") from None


def _currency(row: dict[str, Any]) -> str | None:
    explicit = _text(_pick(row, "currency"))
    if explicit:
        return explicit.upper()
    price = _pick(row, "price")
    if isinstance(price, str):
        for symbol, code in CURRENCY_SYMBOLS.items():
            if symbol in price:
                return code
        match = re.search(r"\b([A-Z]{3})\b", price)
        if match:
            return match.group(1)
    return DEFAULT_CURRENCY if price is not None else None


def _string_list(value: Any) -> list[str]:
    """Lists arrive as JSON lists, ``"8|9|10"``, ``"8,9,10"`` or a JSON-encoded list in a CSV cell."""
    if _blank(value):
        return []
    if isinstance(value, str):
        stripped = value.strip()
        if stripped.startswith("["):
            try:
                value = json.loads(stripped)
            except json.JSONDecodeError:
                value = stripped.strip("[]")
    items: Iterable[Any] = value if isinstance(value, (list, tuple)) else _LIST_SEPARATORS.split(str(value))
    seen: dict[str, None] = {}
    for item in items:
        text = _text(item)
        if text:
            seen.setdefault(text, None)
    return list(seen)


def size_key(size: str) -> str:
    """How sizes compare: case-insensitive, ``"10.0"`` equal to ``"10"``, ``"medium"`` equal to ``"M"``."""
    key = " ".join(size.lower().split())
    key = SIZE_WORDS.get(key, key)
    if re.fullmatch(r"\d+\.0+", key):
        key = key.split(".")[0]
    return key


SIZE_WORDS = {
    "extra small": "xs", "x-small": "xs", "small": "s", "medium": "m", "med": "m", "large": "l",
    "extra large": "xl", "x-large": "xl", "xx-large": "xxl", "2xl": "xxl", "3xl": "xxxl",
}


def _bool(value: Any, line: int | None) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return value > 0
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise CatalogRowError(line, f"in_stock is not a yes/no value: {value!r}")


def _stock(row: dict[str, Any], line: int | None) -> dict[str, int]:
    """Per-store counts when given; a single count or availability flag becomes ``{"all": n}``."""
    value = _pick(row, "stock")
    if isinstance(value, str) and value.strip().startswith("{"):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            raise CatalogRowError(line, f"stock is not a JSON object: {value!r}") from None
    if isinstance(value, dict):
        stock: dict[str, int] = {}
        for store, count in value.items():
            number = _number(count, f"stock[{store}]", line)
            stock[str(store)] = int(number or 0)
        return stock
    if value is not None:
        return {"all": int(_number(value, "stock", line) or 0)}
    flag = _pick(row, "in_stock")
    if flag is not None:
        return {"all": 1 if _bool(flag, line) else 0}
    return {}


def _categories(row: dict[str, Any]) -> tuple[str | None, str | None]:
    """Explicit category/subcategory, else the last two levels of a path like ``Home > Furniture > Chairs``."""
    category = _text(_pick(row, "category"))
    subcategory = _text(_pick(row, "subcategory"))
    path = _text(_pick(row, "category_path"))
    if path is None and category and subcategory is None and _CATEGORY_SEPARATORS.search(category):
        path, category = category, None
    if path and category is None:
        levels = [level for level in _CATEGORY_SEPARATORS.split(path) if level]
        if len(levels) == 1:
            category = levels[0]
        elif levels:
            category, subcategory = levels[-2], subcategory or levels[-1]
    return category, subcategory


def normalize_product(raw: dict[str, Any], line: int | None = None) -> Product:
    """Map one exported row to a :class:`Product`; raises :class:`CatalogRowError` if unusable."""
    row = {str(key).strip().lower(): value for key, value in raw.items() if key is not None}
    product_id = _text(_pick(row, "id"))
    title = _text(_pick(row, "title"))
    if not product_id:
        raise CatalogRowError(line, "missing id (or product_id / sku)")
    if not title:
        raise CatalogRowError(line, f"product {product_id} has no title (or name)")
    category, subcategory = _categories(row)
    color = _text(_pick(row, "color"))
    rating = _number(_pick(row, "rating"), "rating", line)
    return Product(
        id=product_id,
        title=title,
        description=_text(_pick(row, "description")),
        brand=_text(_pick(row, "brand")),
        category=category,
        subcategory=subcategory,
        color=color.lower() if color else None,
        sizes=_string_list(_pick(row, "sizes")),
        price=_number(_pick(row, "price"), "price", line),
        currency=_currency(row),
        rating=rating,
        stock=_stock(row, line),
        image_url=_text(_pick(row, "image_url")),
        tags=_string_list(_pick(row, "tags")),
        sku=_text(_pick(row, "sku")),
        variant_id=_text(_pick(row, "variant_id")),
    )


def in_stock(product: Product) -> bool:
    """Known to be on hand somewhere; a product without stock data is not promised as in stock."""
    return sum((product.get("stock") or {}).values()) > 0
