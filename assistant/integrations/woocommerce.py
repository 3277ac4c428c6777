"""WooCommerce: the REST API v3 (``/wp-json/wc/v3``) for products, variations and orders; verified webhooks.

Products and orders are read ``orderby=modified`` with ``modified_after`` (GMT) and page
numbers up to ``X-WP-TotalPages``.  A simple product is one catalog product; a variable
product is one per variation (``/products/{id}/variations``), each ``woocommerce-<id>`` with
``variant_id`` for the storefront's ``?add-to-cart={id}&quantity={qty}``.  Orders keep
WooCommerce's order number and the customer's id (a guest's orders: ``woocommerce-guest-<order>``).

A cancellation is ``PUT /orders/{id}`` with ``status: cancelled``.  WooCommerce itself has no
returns (plugins add them), so a return request becomes a private order note that staff see
on the order, naming the items, reason and refund method; the refund the merchant then makes
in WooCommerce comes back through the ``order.updated`` webhook as ``refunded``.  Webhooks
carry ``X-WC-Webhook-Signature``, base64 HMAC-SHA256 of the raw body with the webhook's
secret (``WOOCOMMERCE_WEBHOOK_SECRET``); they carry no timestamp, so a replayed delivery is
harmless only because applying the same status twice changes nothing.  Authentication is the
REST API key pair as HTTP Basic auth, which WooCommerce accepts over HTTPS only.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

import aiohttp

from assistant.integrations.base import (
    OrderUpdate,
    PlatformHttp,
    ProductPage,
    SyncedOrder,
    base_url,
    basic_auth,
    hmac_base64,
    money,
    parse_iso,
    product_id,
    require,
    same,
)
from assistant.settings import Settings

if TYPE_CHECKING:
    from assistant.backend.outbox import Transport

NAME = "woocommerce"
PAGE_SIZE = 100
STATUSES = {"pending": "placed", "on-hold": "placed", "failed": "placed", "processing": "paid",
            "completed": "delivered", "cancelled": "cancelled", "refunded": "refunded"}
TOPICS = {"order.updated", "order.created"}


def _attributes(attributes: list[dict[str, Any]]) -> dict[str, str]:
    """``{"color": "Red", "size": "M"}`` from a variation's attributes (``pa_`` taxonomy prefix dropped)."""
    return {attribute["name"].lower().removeprefix("pa_"): attribute["option"] for attribute in attributes
            if attribute.get("option")}


def _gmt(value: str) -> str:
    """WooCommerce's ``*_gmt`` times carry no zone; they are UTC."""
    return value if value.endswith(("Z", "+00:00")) else f"{value}+00:00"


class WooCommerce:
    """The WooCommerce REST API v3 of one store."""

    name = NAME

    def __init__(self, settings: Settings, http: aiohttp.ClientSession | None = None) -> None:
        require(NAME, WOOCOMMERCE_URL=settings.woocommerce_url, WOOCOMMERCE_KEY=settings.woocommerce_key,
                WOOCOMMERCE_SECRET=settings.woocommerce_secret)
        self.http = PlatformHttp(NAME, f"{base_url(settings.woocommerce_url)}/wp-json/wc/v3",
                                 basic_auth(settings.woocommerce_key, settings.woocommerce_secret), session=http)

    async def _pages(self, path: str, since: str | None, **params: str) -> AsyncIterator[list[dict[str, Any]]]:
        page, query = 1, {"per_page": str(PAGE_SIZE), "orderby": "modified", "order": "asc",
                          "dates_are_gmt": "true", **params}
        if since:
            query["modified_after"] = since
        while True:
            body, headers = await self.http.call("GET", path, params={**query, "page": str(page)})
            yield list(body or [])
            if page >= int(headers.get("X-WP-TotalPages", "1")):
                return
            page += 1

    async def products(self, since: str | None) -> AsyncIterator[ProductPage]:
        currency, _ = await self.http.call("GET", "/data/currencies/current")  # prices carry none: the store's
        async for items in self._pages("/products", since, status="any"):
            rows: list[dict[str, Any]] = []
            withdrawn: list[str] = []
            for item in items:
                if item["status"] != "publish":  # draft, pending, private: not for sale
                    withdrawn += [product_id(NAME, variation) for variation in item.get("variations") or [item["id"]]]
                elif item["type"] == "variable":
                    async for variations in self._pages(f"/products/{item['id']}/variations", None):
                        rows += [self._row(item, variation, currency["code"]) for variation in variations]
                else:
                    rows.append(self._row(item, None, currency["code"]))
            yield ProductPage(rows, max((_gmt(item["date_modified_gmt"]) for item in items), default=None), withdrawn)

    @staticmethod
    def _row(item: dict[str, Any], variation: dict[str, Any] | None, currency: str) -> dict[str, Any]:
        source = variation or item
        options = _attributes(variation["attributes"]) if variation else {}
        label = " / ".join(options.values())
        categories = [category["name"] for category in item.get("categories") or []]
        image = (source.get("image") or {}).get("src") or next((i["src"] for i in item.get("images") or []), None)
        return {
            "id": product_id(NAME, source["id"]), "variant_id": str(source["id"]),
            "title": f"{item['name']} - {label}" if label else item["name"],
            "description": item.get("short_description") or item.get("description") or None,
            "category": categories[0] if categories else None,
            "subcategory": categories[1] if len(categories) > 1 else None,
            "tags": [tag["name"] for tag in item.get("tags") or []],
            "color": options.get("color") or options.get("colour"), "sizes": options.get("size"),
            "price": source.get("price") or None, "currency": currency, "sku": source.get("sku") or None,
            "stock": {"online": max(source.get("stock_quantity") or 0, 0)}
            if source.get("stock_quantity") is not None else {"online": int(source.get("stock_status") == "instock")},
            "image_url": image,
        }

    async def orders(self, since: str | None) -> AsyncIterator[list[SyncedOrder]]:
        async for items in self._pages("/orders", since):
            yield [self._order(item) for item in items]

    @staticmethod
    def _order(item: dict[str, Any]) -> SyncedOrder:
        customer = item.get("customer_id") or 0
        record = {
            "order_number": str(item.get("number") or item["id"]),
            "customer_id": str(customer) if customer else f"{NAME}-guest-{item['id']}",
            "email": (item.get("billing") or {}).get("email") or None,
            "status": STATUSES.get(item["status"], "placed"),
            "placed_at": _gmt(item["date_created_gmt"]),
            "cancelled_at": _gmt(item["date_modified_gmt"]) if item["status"] == "cancelled" else None,
            "total": money(item.get("total")), "currency": item.get("currency"),
            "payment_method": item.get("payment_method_title") or None,
            "items": [
                {"product_id": product_id(NAME, line.get("variation_id") or line["product_id"]),
                 "quantity": line["quantity"], "unit_price": money(line.get("price"))}
                for line in item.get("line_items") or []
            ],
        }
        return SyncedOrder(record, str(item["id"]), _gmt(item["date_modified_gmt"]))

    async def cancel_order(self, external_id: str, reason: str) -> None:
        await self.http.call("PUT", f"/orders/{external_id}", json={"status": "cancelled"})

    async def request_return(self, external_id: str, items: list[dict[str, Any]], reason: str, note: str) -> str:
        lines = ", ".join(f"{item.get('quantity') or 1} x {item['product_id'].removeprefix(NAME + '-')}"
                          for item in items)
        body, _ = await self.http.call("POST", f"/orders/{external_id}/notes", json={
            "note": f"Return requested in chat: {lines}. Reason: {reason}. {note}".strip(), "customer_note": False})
        return str(body["id"])

    async def close(self) -> None:
        await self.http.close()


def verify_webhook(secret: str, headers: Mapping[str, str], body: bytes, now: datetime) -> bool:
    """``X-WC-Webhook-Signature`` matches the body (WooCommerce sends no timestamp to check)."""
    return bool(secret) and same(headers.get("X-WC-Webhook-Signature"), hmac_base64(secret, body))


def order_update(headers: Mapping[str, str], payload: dict[str, Any]) -> OrderUpdate | None:
    """An ``order.*`` webhook (the REST order resource) as an update; other topics are ``None``."""
    if headers.get("X-WC-Webhook-Topic") not in TOPICS or "id" not in payload or "status" not in payload:
        return None
    status = STATUSES.get(payload["status"], "placed")
    changed = payload.get("date_modified_gmt")
    return OrderUpdate(NAME, str(payload["id"]), status, parse_iso(_gmt(changed))) if changed else OrderUpdate(
        NAME, str(payload["id"]), status)


def make_transport(settings: Settings, http: aiohttp.ClientSession) -> Transport:
    """``SHOP_BACKEND=woocommerce``: outbox requests become calls to this platform (:mod:`assistant.integrations.transport`)."""
    from assistant.integrations.transport import transport_for

    return transport_for(NAME, settings, http)
