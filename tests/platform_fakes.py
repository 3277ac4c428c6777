"""Local aiohttp apps that play Shopify, WooCommerce and Medusa for the adapter tests.

Each serves the recorded shapes under ``tests/fixtures/platforms/<platform>/`` (products with
variants and stock, orders) the way the real API does: its own authentication (401 with the
platform's error body otherwise), its own incremental filter (``updated_at:>'…'``,
``modified_after``, ``updated_at[$gt]``) and its own pagination (GraphQL cursors, page numbers
with ``X-WP-TotalPages``, ``limit``/``offset`` with ``count``), deliberately in pages of two so
that every sync crosses a page.  It records the calls it receives (``filters`` for reads,
``calls`` for cancels and returns), and signs webhooks as the platform does.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiohttp import web

from assistant.integrations.medusa import signature as medusa_signature

FIXTURES = Path(__file__).parent / "fixtures" / "platforms"
PAGE = 2
TOKEN = "platform-token-for-tests"
KEY, SECRET = "ck_tests", "cs_tests"
WEBHOOK_SECRET = "platform-webhook-secret-for-tests"


def load(platform: str, name: str) -> Any:
    return json.loads((FIXTURES / platform / name).read_text())


def when(value: str) -> datetime:
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class FakePlatform:
    """What every fake shares: the data it serves and what it was asked."""

    name: str
    products: list[dict[str, Any]]
    orders: list[dict[str, Any]]
    filters: list[tuple[str, str | None]] = field(default_factory=list)  # (resource, since) per first page
    calls: list[tuple[str, Any]] = field(default_factory=list)  # ("cancel", id), ("return", {...})
    refuse_cancel: str | None = None  # the platform's reason when it will not cancel (fulfilled meanwhile)
    throttle: int = 0  # how many of the next reads to refuse with the platform's rate-limit answer

    def throttled(self) -> bool:
        if self.throttle > 0:
            self.throttle -= 1
            return True
        return False

    def changed(self, items: list[dict[str, Any]], key: str, since: str | None) -> list[dict[str, Any]]:
        chosen = [item for item in items if since is None or when(item[key]) > when(since)]
        return sorted(chosen, key=lambda item: when(item[key]))

    def sign(self, body: bytes) -> dict[str, str]:
        raise NotImplementedError

    def app(self) -> web.Application:
        raise NotImplementedError


class FakeShopify(FakePlatform):
    """``POST /admin/api/2025-01/graphql.json`` with ``X-Shopify-Access-Token``."""

    def __init__(self) -> None:
        super().__init__("shopify", load("shopify", "products.json"), load("shopify", "orders.json"))
        self.fulfillments = load("shopify", "fulfillments.json")

    async def graphql(self, request: web.Request) -> web.Response:
        if request.headers.get("X-Shopify-Access-Token") != TOKEN:
            return web.json_response({"errors": "[API] Invalid API key or access token (unrecognized login or "
                                                "wrong password)"}, status=401)
        document = await request.json()
        query, variables = document["query"], document["variables"]
        if ("query Products" in query or "query Orders" in query) and self.throttled():
            return web.json_response({"errors": [{"message": "Throttled", "extensions": {
                "code": "THROTTLED", "documentation": "https://shopify.dev/api/usage/rate-limits"}}],
                "extensions": {"cost": {"requestedQueryCost": 52, "actualQueryCost": None, "throttleStatus": {
                    "maximumAvailable": 2000.0, "currentlyAvailable": 0, "restoreRate": 100.0}}}})
        if "query Products" in query or "query Orders" in query:
            field_name = "products" if "query Products" in query else "orders"
            items = self.products if field_name == "products" else self.orders
            search = variables.get("query")
            since = search.split(">", 1)[1].strip("'") if search else None
            start = int(base64.b64decode(variables["cursor"]).decode()) if variables.get("cursor") else 0
            if start == 0:
                self.filters.append((field_name, since))
            chosen = self.changed(items, "updatedAt", since)
            page = chosen[start:start + PAGE]
            end = start + len(page)
            data: dict[str, Any] = {field_name: {
                "pageInfo": {"hasNextPage": end < len(chosen), "endCursor": base64.b64encode(str(end).encode()).decode()},
                "nodes": page}}
            if field_name == "products":
                data["shop"] = {"currencyCode": "USD"}
            return web.json_response({"data": data, "extensions": {"cost": {"requestedQueryCost": 52}}})
        if "mutation Cancel" in query:
            self.calls.append(("cancel", variables["orderId"]))
            order = next(o for o in self.orders if o["id"] == variables["orderId"])
            refusal = self.refuse_cancel or ("Order has already been cancelled" if order["cancelledAt"] else None)
            if refusal:
                return web.json_response({"data": {"orderCancel": {"job": None, "orderCancelUserErrors": [
                    {"field": ["orderId"], "message": refusal, "code": "INVALID"}]}}})
            order.update(cancelledAt=now_iso(), updatedAt=now_iso(), displayFinancialStatus="REFUNDED")
            return web.json_response({"data": {"orderCancel": {
                "job": {"id": "gid://shopify/Job/1b7d3c1e-0000-4000-8000-000000000001"}, "orderCancelUserErrors": []}}})
        if "query Cancelled" in query:
            order = next(o for o in self.orders if o["id"] == variables["id"])
            return web.json_response({"data": {"order": {"cancelledAt": order["cancelledAt"]}}})
        if "query Fulfilled" in query:
            return web.json_response({"data": {"order": {"fulfillments": self.fulfillments.get(variables["id"], [])}}})
        if "mutation Return" in query:
            self.calls.append(("return", variables["input"]))
            return web.json_response({"data": {"returnRequest": {
                "return": {"id": "gid://shopify/Return/7000001", "status": "REQUESTED"}, "userErrors": []}}})
        return web.json_response({"errors": [{"message": "unknown operation"}]}, status=200)

    def cancelled_webhook(self, external_id: str) -> tuple[dict[str, str], bytes]:
        """``orders/cancelled`` as Shopify sends it once its cancel job is done."""
        payload = load("shopify", "webhook_orders_cancelled.json")
        payload["admin_graphql_api_id"] = external_id
        payload["id"] = int(external_id.rsplit("/", 1)[-1])
        payload["updated_at"] = payload["cancelled_at"] = now_iso()
        body = json.dumps(payload).encode()
        return {"X-Shopify-Topic": "orders/cancelled", "X-Shopify-Triggered-At": now_iso(),
                "X-Shopify-Webhook-Id": "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043", **self.sign(body)}, body

    def sign(self, body: bytes) -> dict[str, str]:
        digest = hmac.new(WEBHOOK_SECRET.encode(), body, hashlib.sha256).digest()
        return {"X-Shopify-Hmac-Sha256": base64.b64encode(digest).decode(), "Content-Type": "application/json"}

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/admin/api/2025-01/graphql.json", self.graphql)
        return app


class FakeWooCommerce(FakePlatform):
    """``/wp-json/wc/v3`` with the REST API key pair as HTTP Basic auth."""

    def __init__(self) -> None:
        super().__init__("woocommerce", load("woocommerce", "products.json"), load("woocommerce", "orders.json"))
        self.variations: dict[str, list[dict[str, Any]]] = load("woocommerce", "variations.json")

    def _authorized(self, request: web.Request) -> bool:
        expected = "Basic " + base64.b64encode(f"{KEY}:{SECRET}".encode()).decode()
        return request.headers.get("Authorization") == expected

    def _page(self, request: web.Request, items: list[dict[str, Any]], resource: str | None) -> web.Response:
        if not self._authorized(request):
            return web.json_response({"code": "woocommerce_rest_cannot_view", "message": "Sorry, you cannot list "
                                      "resources.", "data": {"status": 401}}, status=401)
        if self.throttled():
            return web.json_response({"code": "woocommerce_rest_too_many_requests", "message": "Too many requests."},
                                     status=429, headers={"Retry-After": "0"})
        since = request.query.get("modified_after")
        page = int(request.query.get("page", "1"))
        if resource and page == 1:
            self.filters.append((resource, since))
        chosen = self.changed(items, "date_modified_gmt", since) if resource else items
        size = min(int(request.query.get("per_page", "10")), PAGE)
        pages = max(1, -(-len(chosen) // size))
        return web.json_response(chosen[(page - 1) * size:page * size],
                                 headers={"X-WP-Total": str(len(chosen)), "X-WP-TotalPages": str(pages)})

    async def list_products(self, request: web.Request) -> web.Response:
        wanted = request.query.get("status")
        return self._page(request, [p for p in self.products if wanted in (None, "any", p["status"])], "products")

    async def current_currency(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return web.json_response({"code": "woocommerce_rest_cannot_view"}, status=401)
        return web.json_response({"code": "EUR", "name": "Euro", "symbol": "&euro;"})

    async def list_variations(self, request: web.Request) -> web.Response:
        return self._page(request, self.variations.get(request.match_info["id"], []), None)

    async def list_orders(self, request: web.Request) -> web.Response:
        return self._page(request, self.orders, "orders")

    async def update_order(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return web.json_response({"code": "woocommerce_rest_cannot_edit"}, status=401)
        order = next(o for o in self.orders if str(o["id"]) == request.match_info["id"])
        change = await request.json()
        self.calls.append(("cancel" if change.get("status") == "cancelled" else "update", str(order["id"])))
        order.update(change)
        order["date_modified_gmt"] = now_iso().rstrip("Z")
        return web.json_response(order)

    async def add_note(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return web.json_response({"code": "woocommerce_rest_cannot_create"}, status=401)
        note = await request.json()
        self.calls.append(("return", {"order": request.match_info["id"], **note}))
        return web.json_response({"id": 281, "author": "WooCommerce", "note": note["note"],
                                  "customer_note": note["customer_note"]}, status=201)

    def updated_webhook(self, external_id: str) -> tuple[dict[str, str], bytes]:
        """``order.updated`` with the order as it now is (cancelled by the PUT the transport made)."""
        payload = load("woocommerce", "webhook_order_updated.json")
        order = next(o for o in self.orders if str(o["id"]) == external_id)
        payload.update(id=order["id"], number=order["number"], status=order["status"],
                       date_modified_gmt=order["date_modified_gmt"])
        body = json.dumps(payload).encode()
        return {"X-WC-Webhook-Topic": "order.updated", "X-WC-Webhook-Resource": "order", "X-WC-Webhook-Event": "updated",
                "X-WC-Webhook-ID": "14", "X-WC-Webhook-Delivery-ID": "8f1f5b1c0d", **self.sign(body)}, body

    def sign(self, body: bytes) -> dict[str, str]:
        digest = hmac.new(WEBHOOK_SECRET.encode(), body, hashlib.sha256).digest()
        return {"X-WC-Webhook-Signature": base64.b64encode(digest).decode(), "Content-Type": "application/json"}

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/wp-json/wc/v3/data/currencies/current", self.current_currency)
        app.router.add_get("/wp-json/wc/v3/products", self.list_products)
        app.router.add_get("/wp-json/wc/v3/products/{id}/variations", self.list_variations)
        app.router.add_get("/wp-json/wc/v3/orders", self.list_orders)
        app.router.add_put("/wp-json/wc/v3/orders/{id}", self.update_order)
        app.router.add_post("/wp-json/wc/v3/orders/{id}/notes", self.add_note)
        return app


class FakeMedusa(FakePlatform):
    """The Medusa v2 admin API with a secret API key as HTTP Basic user name."""

    def __init__(self) -> None:
        super().__init__("medusa", load("medusa", "products.json"), load("medusa", "orders.json"))

    def _authorized(self, request: web.Request) -> bool:
        return request.headers.get("Authorization") == "Basic " + base64.b64encode(f"{TOKEN}:".encode()).decode()

    def _unauthorized(self) -> web.Response:
        return web.json_response({"type": "unauthorized", "message": "Unauthorized"}, status=401)

    def _list(self, request: web.Request, key: str, items: list[dict[str, Any]]) -> web.Response:
        if not self._authorized(request):
            return self._unauthorized()
        if self.throttled():
            return web.json_response({"type": "too_many_requests", "message": "Too many requests"}, status=429,
                                     headers={"Retry-After": "0"})
        since = request.query.get("updated_at[$gt]")
        offset, limit = int(request.query.get("offset", "0")), min(int(request.query.get("limit", "50")), PAGE)
        if offset == 0:
            self.filters.append((key, since))
        chosen = self.changed(items, "updated_at", since)
        return web.json_response({key: chosen[offset:offset + limit], "count": len(chosen), "offset": offset,
                                  "limit": limit})

    async def list_products(self, request: web.Request) -> web.Response:
        return self._list(request, "products", self.products)

    async def list_orders(self, request: web.Request) -> web.Response:
        return self._list(request, "orders", self.orders)

    async def get_order(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return self._unauthorized()
        return web.json_response({"order": next(o for o in self.orders if o["id"] == request.match_info["id"])})

    async def cancel_order(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return self._unauthorized()
        order = next(o for o in self.orders if o["id"] == request.match_info["id"])
        self.calls.append(("cancel", order["id"]))
        refusal = self.refuse_cancel or ("Order is already canceled" if order["status"] == "canceled" else None)
        if refusal:
            return web.json_response({"type": "not_allowed", "message": refusal}, status=400)
        order.update(status="canceled", canceled_at=now_iso(), updated_at=now_iso())
        return web.json_response({"order": order})

    async def create_return(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return self._unauthorized()
        self.calls.append(("return", await request.json()))
        return web.json_response({"return": {"id": "return_01JD000000000000000001", "status": "open"}})

    async def return_step(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return self._unauthorized()
        body = await request.json()
        self.calls.append((request.match_info["step"], body))
        return web.json_response({"return": {"id": request.match_info["id"], "status": "requested"}})

    def canceled_webhook(self, external_id: str) -> tuple[dict[str, str], bytes]:
        """What the documented subscriber forwards on ``order.canceled``."""
        payload = load("medusa", "webhook_order_canceled.json")
        payload["data"]["id"] = external_id
        body = json.dumps(payload).encode()
        return {**self.sign(body), "Content-Type": "application/json"}, body

    def sign(self, body: bytes, timestamp: int | None = None) -> dict[str, str]:
        stamp = str(int(time.time()) if timestamp is None else timestamp)
        return {"X-Medusa-Timestamp": stamp, "X-Medusa-Signature": medusa_signature(WEBHOOK_SECRET, stamp, body)}

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/admin/products", self.list_products)
        app.router.add_get("/admin/orders", self.list_orders)
        app.router.add_get("/admin/orders/{id}", self.get_order)
        app.router.add_post("/admin/orders/{id}/cancel", self.cancel_order)
        app.router.add_post("/admin/returns", self.create_return)
        app.router.add_post("/admin/returns/{id}/{step}", self.return_step)
        return app
