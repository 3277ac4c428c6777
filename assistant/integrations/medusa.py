"""Medusa (v2): the Admin API for products, orders, cancellations and returns; signed subscriber webhooks.

Authenticates with a secret API key (``MEDUSA_API_TOKEN``, ``sk_…``) as HTTP Basic user name,
as Medusa's admin API expects.  Products and orders are read ``order=updated_at`` with
``updated_at[$gt]`` and ``limit``/``offset`` pages, expanding variants with their options,
prices and inventory quantity.  Each variant is one catalog product ``medusa-<variant id>``
(``variant_id`` for the storefront cart); an order keeps its ``display_id`` as order number.
Medusa v2 amounts are in the currency's main unit, as ours are.

A cancellation is ``POST /admin/orders/{id}/cancel``.  A return is opened as Medusa's admin
does it: ``POST /admin/returns`` for the order, ``…/request-items`` with the order's line
items of the asked products, then ``…/request``.

Medusa sends no webhooks of its own; a subscriber in the store's Medusa project forwards
``order.*`` events (docs in the README): it POSTs ``{"id": <event id>, "event": "order.canceled",
"data": {"id": "order_…"}}`` with ``X-Medusa-Timestamp`` (Unix seconds) and
``X-Medusa-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>" with MEDUSA_WEBHOOK_SECRET>``.
The timestamp must lie within the replay window.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import aiohttp

from assistant.integrations.base import (
    OrderUpdate,
    PlatformError,
    PlatformHttp,
    ProductPage,
    SyncedOrder,
    base_url,
    basic_auth,
    fresh,
    money,
    product_id,
    require,
    same,
)
from assistant.settings import Settings

if TYPE_CHECKING:
    from assistant.backend.outbox import Transport

NAME = "medusa"
PAGE_SIZE = 50
PRODUCT_FIELDS = "*variants,*variants.options,*variants.options.option,*variants.prices,+variants.inventory_quantity," \
                 "*categories,*tags,+updated_at"
ORDER_FIELDS = "id,display_id,status,email,customer_id,currency_code,total,created_at,updated_at,canceled_at," \
               "payment_status,fulfillment_status,*items"
EVENTS = {"order.canceled": "cancelled", "order.completed": "delivered", "order.fulfillment_created": "shipped",
          "order.placed": "placed", "order.updated": None}


def order_status(order: dict[str, Any]) -> str:
    """The store's status from a Medusa order's status, payment and fulfillment states."""
    if order.get("status") == "canceled" or order.get("canceled_at"):
        return "cancelled"
    payment, fulfillment = order.get("payment_status") or "", order.get("fulfillment_status") or ""
    if payment in ("refunded", "partially_refunded"):
        return "refunded"
    if fulfillment == "delivered" or order.get("status") == "completed":
        return "delivered"
    if fulfillment in ("shipped", "partially_shipped", "fulfilled"):
        return "shipped"
    if payment in ("captured", "authorized"):
        return "paid"
    return "placed"


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=<hex>`` over ``timestamp.body``, the header the documented subscriber sends."""
    return "sha256=" + hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


class Medusa:
    """The Medusa v2 Admin API of one store."""

    name = NAME

    def __init__(self, settings: Settings, http: aiohttp.ClientSession | None = None) -> None:
        require(NAME, MEDUSA_URL=settings.medusa_url, MEDUSA_API_TOKEN=settings.medusa_api_token)
        self.http = PlatformHttp(NAME, base_url(settings.medusa_url), basic_auth(settings.medusa_api_token, ""),
                                 session=http)

    async def _pages(self, path: str, key: str, fields: str, since: str | None) -> AsyncIterator[list[dict[str, Any]]]:
        offset = 0
        while True:
            params = {"limit": str(PAGE_SIZE), "offset": str(offset), "order": "updated_at", "fields": fields}
            if since:
                params["updated_at[$gt]"] = since
            body, _ = await self.http.call("GET", path, params=params)
            items = list(body[key])
            yield items
            offset += len(items)
            if not items or offset >= int(body.get("count", 0)):
                return

    async def products(self, since: str | None) -> AsyncIterator[ProductPage]:
        async for items in self._pages("/admin/products", "products", PRODUCT_FIELDS, since):
            rows = [self._row(item, variant) for item in items if item.get("status") == "published"
                    for variant in item.get("variants") or []]
            withdrawn = [product_id(NAME, variant["id"]) for item in items if item.get("status") != "published"
                         for variant in item.get("variants") or []]
            yield ProductPage(rows, max((item["updated_at"] for item in items), default=None), withdrawn)

    @staticmethod
    def _row(item: dict[str, Any], variant: dict[str, Any]) -> dict[str, Any]:
        options = {(option.get("option") or {}).get("title", "").lower(): option["value"]
                   for option in variant.get("options") or []}
        price: dict[str, Any] = next(iter(variant.get("prices") or []), {})
        categories = [category["name"] for category in item.get("categories") or []]
        single = len(item.get("variants") or []) == 1
        return {
            "id": product_id(NAME, variant["id"]), "variant_id": variant["id"],
            "title": item["title"] if single else f"{item['title']} - {variant['title']}",
            "description": item.get("description") or item.get("subtitle") or None,
            "category": categories[0] if categories else None,
            "tags": [tag["value"] for tag in item.get("tags") or []],
            "color": options.get("color") or options.get("colour"), "sizes": options.get("size"),
            "price": price.get("amount"), "currency": (price.get("currency_code") or "").upper() or None,
            "sku": variant.get("sku") or None, "image_url": item.get("thumbnail"),
            "stock": {} if variant.get("inventory_quantity") is None  # inventory not managed: unknown
            else {"online": max(variant["inventory_quantity"], 0)},
        }

    async def orders(self, since: str | None) -> AsyncIterator[list[SyncedOrder]]:
        async for items in self._pages("/admin/orders", "orders", ORDER_FIELDS, since):
            yield [self._order(item) for item in items]

    @staticmethod
    def _order(item: dict[str, Any]) -> SyncedOrder:
        record = {
            "order_number": str(item["display_id"]),
            "customer_id": item.get("customer_id") or f"{NAME}-guest-{item['id']}",
            "email": item.get("email"), "status": order_status(item),
            "placed_at": item["created_at"], "cancelled_at": item.get("canceled_at"),
            "total": money(item.get("total")), "currency": (item.get("currency_code") or "").upper() or None,
            "items": [
                {"product_id": product_id(NAME, line["variant_id"]), "quantity": line["quantity"],
                 "unit_price": money(line.get("unit_price"))}
                for line in item.get("items") or [] if line.get("variant_id")
            ],
        }
        return SyncedOrder(record, item["id"], item["updated_at"])

    async def cancel_order(self, external_id: str, reason: str) -> None:
        """Medusa's "no" is a 4xx (fulfilled, already canceled); a repeat after a lost answer finds it canceled: done."""
        try:
            await self.http.call("POST", f"/admin/orders/{external_id}/cancel", json={})
        except PlatformError as error:
            if error.refusal is None:
                raise
            body, _ = await self.http.call("GET", f"/admin/orders/{external_id}", params={"fields": "id,status"})
            if body["order"].get("status") != "canceled":
                raise

    async def request_return(self, external_id: str, items: list[dict[str, Any]], reason: str, note: str) -> str:
        body, _ = await self.http.call("GET", f"/admin/orders/{external_id}", params={"fields": "id,*items"})
        lines = {product_id(NAME, line["variant_id"]): line for line in body["order"]["items"] if line.get("variant_id")}
        wanted = [{"id": lines[item["product_id"]]["id"], "quantity": int(item.get("quantity") or 1),
                   "internal_note": f"{reason} {note}".strip()[:255]}
                  for item in items if item["product_id"] in lines]
        if not wanted:
            raise PlatformError(f"medusa order {external_id} has none of the products to return", retry=False)
        created, _ = await self.http.call("POST", "/admin/returns", json={"order_id": external_id,
                                                                          "description": reason[:255]})
        return_id = created["return"]["id"]
        await self.http.call("POST", f"/admin/returns/{return_id}/request-items", json={"items": wanted})
        await self.http.call("POST", f"/admin/returns/{return_id}/request", json={})
        return str(return_id)

    async def close(self) -> None:
        await self.http.close()


def verify_webhook(secret: str, headers: Mapping[str, str], body: bytes, now: datetime) -> bool:
    """``X-Medusa-Signature`` matches ``timestamp.body`` and ``X-Medusa-Timestamp`` is recent."""
    timestamp = headers.get("X-Medusa-Timestamp", "")
    if not secret or not timestamp.isdigit():
        return False
    return same(headers.get("X-Medusa-Signature"), signature(secret, timestamp, body)) and fresh(
        datetime.fromtimestamp(int(timestamp), UTC), now)


def order_update(headers: Mapping[str, str], payload: dict[str, Any]) -> OrderUpdate | None:
    """A forwarded ``order.*`` event as an update; other events are ``None``."""
    event, data = payload.get("event"), payload.get("data") or {}
    status = EVENTS.get(event) if isinstance(event, str) else None
    if event == "order.updated" and isinstance(data.get("status"), str):
        status = order_status(data)
    if status is None or not isinstance(data.get("id"), str):
        return None
    return OrderUpdate(NAME, data["id"], status)


def make_transport(settings: Settings, http: aiohttp.ClientSession) -> Transport:
    """``SHOP_BACKEND=medusa``: outbox requests become calls to this platform (:mod:`assistant.integrations.transport`)."""
    from assistant.integrations.transport import transport_for

    return transport_for(NAME, settings, http)
