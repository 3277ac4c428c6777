"""How replies look: one compact text for any channel plus a structured payload for the widget.

Every product reply carries the same ``{"type": "products", ...}`` payload (docs/contracts.md),
so the widget renders a carousel while text channels (Slack, Telegram, SMS) read the list.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, NotRequired, TypedDict

from assistant.store.models import Order
from catalog_index.schema import Product, in_stock


class ProductCard(TypedDict):
    """One card of a ``products`` or ``comparison`` payload (docs/contracts.md): what the widget renders."""

    id: str
    title: str
    price: float | None
    currency: str | None
    image_url: str | None
    rating: float | None
    in_stock: bool | None  # None: the catalog says nothing about stock, and neither does the card
    reason: NotRequired[str]  # why it is suggested (recommendations)


def money(amount: float | None, currency: str | None = "USD") -> str:
    """``$79.99`` for dollars, ``79.99 EUR`` otherwise, ``price on request`` for no price."""
    if amount is None:
        return "price on request"
    if (currency or "USD") == "USD":
        return f"${amount:,.2f}"
    return f"{amount:,.2f} {currency}"


def day(moment: datetime | None) -> str | None:
    """A date as people read it in a chat ("Tue 14 May")."""
    return None if moment is None else moment.strftime("%a %d %b").replace(" 0", " ")


def stock_known(product: Product) -> bool:
    """Whether the catalog says anything about stock (bare exports do not: then replies say nothing)."""
    return bool(product.get("stock"))


def product_card(product: Product, reason: str | None = None) -> ProductCard:
    """The fields a carousel card shows, plus ``in_stock`` (``None`` when unknown) and an optional reason."""
    card = ProductCard(
        id=product["id"], title=product["title"], price=product.get("price"), currency=product.get("currency"),
        image_url=product.get("image_url"), rating=product.get("rating"),
        in_stock=in_stock(product) if stock_known(product) else None,
    )
    if reason:
        card["reason"] = reason
    return card


def product_line(position: int, product: Product, reason: str | None = None) -> str:
    """``2. Trail Boot, $79.99, in stock`` (stock left out when unknown; the reason on the same line when given)."""
    line = f"{position}. {product.get('title')}, {money(product.get('price'), product.get('currency'))}"
    if stock_known(product):
        line += ", in stock" if in_stock(product) else ", out of stock"
    return f"{line} ({reason})" if reason else line


def products_payload(
    products: Iterable[Product], reasons: Iterable[str | None] | None = None, **extra: Any
) -> dict[str, Any]:
    """The ``products`` json_message; ``extra`` adds context such as the query or the page."""
    items = list(products)
    why = list(reasons) if reasons is not None else [None] * len(items)
    return {"type": "products", "products": [product_card(p, r) for p, r in zip(items, why, strict=False)], **extra}


def product_list_text(
    intro: str, products: Sequence[Product], reasons: Sequence[str | None] | None = None, first: int = 1
) -> str:
    """An intro sentence followed by one numbered line per product."""
    why = reasons if reasons is not None else [None] * len(products)
    lines = [product_line(first + n, p, r) for n, (p, r) in enumerate(zip(products, why, strict=False))]
    return "\n".join([intro, *lines])


def product_details_text(product: Product) -> str:
    """Everything a shopper asks about before buying, in a few short lines."""
    parts = [f"{product.get('title')}: {money(product.get('price'), product.get('currency'))}"]
    if product.get("brand"):
        parts[0] += f" by {product['brand']}"
    if product.get("description"):
        parts.append(str(product["description"]))
    if product.get("color"):
        parts.append(f"Colour: {product['color']}")
    if product.get("sizes"):
        parts.append("Sizes: " + ", ".join(product["sizes"]))
    stock = product.get("stock") or {}
    if stock:
        parts.append("Stock: " + ", ".join(f"{place} {count}" for place, count in stock.items()))
    if product.get("rating") is not None:
        parts.append(f"Rating: {product['rating']:.1f} out of 5")
    return "\n".join(parts)


def order_payload(order: Order) -> dict[str, Any]:
    """The ``order`` of an ``order_status`` json_message: what the widget's order card shows."""
    shipment, refund = order.shipment, order.refund
    return {
        "order_number": order.order_number, "status": order.status, "placed_at": order.placed_at.isoformat(),
        "total": order.total, "currency": order.currency,
        "items": [{"product_id": i.product_id, "title": i.product.title, "quantity": i.quantity} for i in order.items],
        "shipment": None if shipment is None else {
            "carrier": shipment.carrier, "tracking_number": shipment.tracking_number, "status": shipment.status,
            "shipped_at": shipment.shipped_at and shipment.shipped_at.isoformat(),
            "estimated_delivery": shipment.estimated_delivery and shipment.estimated_delivery.isoformat(),
            "delivered_at": shipment.delivered_at and shipment.delivered_at.isoformat(),
            "delay_reason": shipment.delay_reason,
        },
        "refund": None if refund is None else {"status": refund.status, "amount": refund.amount},
    }


def order_status_text(order: Order) -> str:
    """Status, carrier and tracking, expected (or actual) delivery, and why it is late if it is."""
    lines = [f"Order {order.order_number} (placed {day(order.placed_at)}, {money(order.total, order.currency)}): "
             f"{order.status.replace('_', ' ')}."]
    shipment = order.shipment
    if shipment is not None:
        if shipment.carrier:
            lines.append(f"Carrier: {shipment.carrier}, tracking number {shipment.tracking_number or 'not yet assigned'}.")
        if shipment.delivered_at:
            lines.append(f"Delivered on {day(shipment.delivered_at)}.")
        elif shipment.estimated_delivery:
            lines.append(f"Estimated delivery: {day(shipment.estimated_delivery)}.")
        if shipment.delay_reason:
            lines.append(f"Why it's late: {shipment.delay_reason}")
    return "\n".join(lines)
