"""The storefront cart link the chat's Checkout button opens (``SHOP_CART_LINK_TEMPLATE``).

The template language (README "Checkout from chat"):

* ``{items|ITEM|SEP}`` repeats ``ITEM`` for every cart line, joined by ``SEP``; inside ``ITEM``,
  ``{variant}`` is the line's ``variant_id`` (its product id when it has none), ``{product}``
  the product id and ``{qty}`` the quantity. ``{items}`` alone means ``{items|{variant}:{qty}|,}``.
  Shopify cart permalink: ``https://shop.example/cart/{items}`` -> ``/cart/4001:2,4002:1``.
* A template without an items block names one product: ``{variant}``, ``{product}`` and ``{qty}``
  stand for the cart's only line (WooCommerce: ``https://shop.example/?add-to-cart={variant}&quantity={qty}``);
  with several lines there is no link, because such a URL cannot carry them.

Values are percent-encoded, so an id cannot change the URL's shape; the template itself must be
an ``https://`` (or ``http://``) URL.
"""

from __future__ import annotations

import re
import urllib.parse
from dataclasses import dataclass

ITEMS_BLOCK = re.compile(r"\{items(?:\|([^|}]*(?:\{[a-z]+\}[^|}]*)*)\|([^}]*))?\}")
FIELD = re.compile(r"\{(variant|product|qty)\}")
DEFAULT_ITEM, DEFAULT_SEPARATOR = "{variant}:{qty}", ","


@dataclass(frozen=True)
class CheckoutLine:
    product_id: str
    variant_id: str | None
    quantity: int


def _fill(pattern: str, line: CheckoutLine) -> str:
    values = {"variant": line.variant_id or line.product_id, "product": line.product_id, "qty": str(line.quantity)}
    return FIELD.sub(lambda match: urllib.parse.quote(values[match.group(1)], safe=""), pattern)


def check_template(template: str) -> None:
    """Raise ``ValueError`` naming the problem with a cart link template (checked at start-up and in tests)."""
    if not template.startswith(("https://", "http://")):
        raise ValueError("SHOP_CART_LINK_TEMPLATE must be an http(s) URL")
    rest = ITEMS_BLOCK.sub("", template)
    if ITEMS_BLOCK.search(template) is None and FIELD.search(template) is None:
        raise ValueError("SHOP_CART_LINK_TEMPLATE names no cart line: use {items} or {variant}/{product} and {qty}")
    if re.search(r"\{(?!variant\}|product\}|qty\})[^}]*\}", rest):
        raise ValueError("SHOP_CART_LINK_TEMPLATE has an unknown {placeholder}; known: {items|ITEM|SEP}, "
                         "{variant}, {product}, {qty}")


def cart_link(template: str, lines: list[CheckoutLine]) -> str | None:
    """The storefront URL with these lines in its cart, or None (no template, empty cart, or one-line template)."""
    if not template or not lines:
        return None
    check_template(template)
    block = ITEMS_BLOCK.search(template)
    if block is None:
        return _fill(template, lines[0]) if len(lines) == 1 else None
    item, separator = (block.group(1), block.group(2)) if block.group(1) is not None else (DEFAULT_ITEM,
                                                                                          DEFAULT_SEPARATOR)
    joined = separator.join(_fill(item, line) for line in lines)
    return template[: block.start()] + joined + template[block.end():]
