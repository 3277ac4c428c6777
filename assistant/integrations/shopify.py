"""Shopify: the Admin GraphQL API for products, orders, cancellations and returns; verified webhooks.

Reads ``products`` and ``orders`` sorted by ``UPDATED_AT`` with the search filter
``updated_at:>'…'`` and cursor pagination (``pageInfo.endCursor``), so a sync after the
first asks only for what changed.  Each variant becomes one catalog product
(``shopify-<variant id>``, with ``variant_id`` for the cart permalink ``/cart/{variant}:{qty}``,
its Size and Color options, price and inventory quantity).  An order keeps Shopify's name
without the ``#`` as its order number and the customer's numeric id as its customer, which
is what the store's backend signs customer tokens with.

A cancellation becomes ``orderCancel`` (refund to the original payment, restock, notify
the customer); a return becomes ``returnRequest`` for the fulfilled lines of the asked
products, which the merchant approves or declines in Shopify.  Webhooks (topics
``orders/cancelled``, ``orders/updated``, ``orders/fulfilled``, ``orders/paid``) are
verified with ``X-Shopify-Hmac-Sha256``, base64 HMAC-SHA256 of the raw body with
``SHOPIFY_WEBHOOK_SECRET``, and refused when ``X-Shopify-Triggered-At`` is outside the
replay window.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

import aiohttp

from assistant.integrations.base import (
    OrderUpdate,
    PlatformError,
    PlatformHttp,
    ProductPage,
    SyncedOrder,
    base_url,
    fresh,
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

NAME = "shopify"
# Pages of 50 products (with up to 100 variants each) or orders stay well inside Shopify's query cost limit.

PRODUCTS = """
query Products($cursor: String, $query: String) {
  shop { currencyCode }
  products(first: 50, after: $cursor, query: $query, sortKey: UPDATED_AT) {
    pageInfo { hasNextPage endCursor }
    nodes {
      id title description vendor productType tags status updatedAt
      featuredImage { url }
      variants(first: 100) {
        nodes { id title sku price inventoryQuantity selectedOptions { name value } image { url } }
      }
    }
  }
}"""

ORDERS = """
query Orders($cursor: String, $query: String) {
  orders(first: 50, after: $cursor, query: $query, sortKey: UPDATED_AT) {
    pageInfo { hasNextPage endCursor }
    nodes {
      id name email createdAt updatedAt cancelledAt displayFinancialStatus displayFulfillmentStatus
      totalPriceSet { shopMoney { amount currencyCode } }
      customer { id }
      lineItems(first: 100) { nodes { quantity variant { id } originalUnitPriceSet { shopMoney { amount } } } }
    }
  }
}"""

CANCEL = """
mutation Cancel($orderId: ID!, $staffNote: String) {
  orderCancel(orderId: $orderId, reason: CUSTOMER, refund: true, restock: true, notifyCustomer: true,
              staffNote: $staffNote) {
    job { id }
    orderCancelUserErrors { field message code }
  }
}"""

CANCELLED = """
query Cancelled($id: ID!) { order(id: $id) { cancelledAt } }"""

FULFILLED_LINES = """
query Fulfilled($id: ID!) {
  order(id: $id) {
    fulfillments(first: 20) {
      fulfillmentLineItems(first: 100) { nodes { id quantity lineItem { variant { id } } } }
    }
  }
}"""

RETURN_REQUEST = """
mutation Return($input: ReturnRequestInput!) {
  returnRequest(input: $input) {
    return { id status }
    userErrors { field message }
  }
}"""

# Words of a shopper's reason -> Shopify's ReturnReason; anything else is OTHER.
RETURN_REASONS = (
    (("too small", "small"), "SIZE_TOO_SMALL"), (("too large", "too big", "large", "big"), "SIZE_TOO_LARGE"),
    (("defect", "broken", "damaged", "faulty"), "DEFECTIVE"), (("wrong",), "WRONG_ITEM"),
    (("not as described", "different"), "NOT_AS_DESCRIBED"), (("colour", "color"), "COLOR"),
    (("style",), "STYLE"), (("changed my mind", "unwanted", "don't want", "do not want"), "UNWANTED"),
)
TOPICS = {"orders/cancelled", "orders/updated", "orders/fulfilled", "orders/paid"}
THROTTLE_RETRIES = 4


def order_status(cancelled: bool, financial: str | None, fulfillment: str | None) -> str:
    """The store's order status from Shopify's cancellation, financial and fulfillment states (any case)."""
    financial, fulfillment = (financial or "").lower(), (fulfillment or "").lower()
    if cancelled:
        return "cancelled"
    if financial == "refunded":
        return "refunded"
    if fulfillment in ("fulfilled", "partially_fulfilled", "partial"):
        return "shipped"
    if financial in ("paid", "partially_refunded"):
        return "paid"
    return "placed"


def throttle_wait(cost: dict[str, Any]) -> float:
    """Seconds until the bucket holds the query's cost again (1 to 10 s), from Shopify's ``extensions.cost``."""
    status = cost.get("throttleStatus") or {}
    missing = float(cost.get("requestedQueryCost") or 0) - float(status.get("currentlyAvailable") or 0)
    return min(10.0, max(1.0, missing / float(status.get("restoreRate") or 50)))


def return_reason(text: str) -> str:
    lowered = text.lower()
    return next((code for words, code in RETURN_REASONS if any(word in lowered for word in words)), "OTHER")


def numeric_id(gid: str) -> str:
    """``gid://shopify/Order/123`` -> ``123``."""
    return gid.rsplit("/", 1)[-1]


class Shopify:
    """The Shopify Admin GraphQL API of one shop."""

    name = NAME

    def __init__(self, settings: Settings, http: aiohttp.ClientSession | None = None) -> None:
        require(NAME, SHOPIFY_SHOP_DOMAIN=settings.shopify_shop_domain, SHOPIFY_ADMIN_TOKEN=settings.shopify_admin_token)
        self.endpoint = f"/admin/api/{settings.shopify_api_version}/graphql.json"
        self.http = PlatformHttp(NAME, base_url(settings.shopify_shop_domain),
                                 {"X-Shopify-Access-Token": settings.shopify_admin_token}, session=http)

    async def graphql(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        """``data`` of a GraphQL call; top-level ``errors`` become :class:`PlatformError`.

        Shopify limits queries by cost (a bucket refilled at ``restoreRate`` points a second):
        a ``THROTTLED`` answer is waited out as long as its ``throttleStatus`` says, a few times.
        """
        waited = 0
        while True:
            body, _ = await self.http.call("POST", self.endpoint, json={"query": query, "variables": variables})
            errors = (body or {}).get("errors")
            if not errors:
                return dict(body["data"])
            message = errors[0].get("message", "") if isinstance(errors, list) else str(errors)
            throttled = isinstance(errors, list) and any(
                (error.get("extensions") or {}).get("code") == "THROTTLED" for error in errors)
            if not throttled or waited == THROTTLE_RETRIES:
                raise PlatformError(f"shopify GraphQL error: {message}", retry=throttled)
            waited += 1
            await asyncio.sleep(throttle_wait((body.get("extensions") or {}).get("cost") or {}))

    async def _pages(self, query: str, field: str, since: str | None) -> AsyncIterator[tuple[dict[str, Any], list[Any]]]:
        cursor: str | None = None
        search = f"updated_at:>'{since}'" if since else None
        while True:
            data = await self.graphql(query, {"cursor": cursor, "query": search})
            connection = data[field]
            yield data, connection["nodes"]
            if not connection["pageInfo"]["hasNextPage"]:
                return
            cursor = connection["pageInfo"]["endCursor"]

    async def products(self, since: str | None) -> AsyncIterator[ProductPage]:
        async for data, nodes in self._pages(PRODUCTS, "products", since):
            currency = data["shop"]["currencyCode"]
            rows = [row for node in nodes if node["status"] == "ACTIVE" for row in self._variant_rows(node, currency)]
            withdrawn = [product_id(NAME, variant["id"]) for node in nodes if node["status"] != "ACTIVE"
                         for variant in node["variants"]["nodes"]]
            yield ProductPage(rows, max((node["updatedAt"] for node in nodes), default=None), withdrawn)

    @staticmethod
    def _variant_rows(node: dict[str, Any], currency: str) -> list[dict[str, Any]]:
        rows = []
        for variant in node["variants"]["nodes"]:
            options = {option["name"].lower(): option["value"] for option in variant["selectedOptions"]}
            single = variant["title"] == "Default Title"
            rows.append({
                "id": product_id(NAME, variant["id"]), "variant_id": numeric_id(variant["id"]),
                "title": node["title"] if single else f"{node['title']} - {variant['title']}",
                "description": node["description"] or None, "brand": node["vendor"] or None,
                "category": node["productType"] or None, "tags": node["tags"],
                "color": options.get("color") or options.get("colour"), "sizes": options.get("size"),
                "price": variant["price"], "currency": currency, "sku": variant["sku"] or None,
                # untracked inventory (null) is unknown stock, not none
                "stock": {} if variant["inventoryQuantity"] is None else {"online": max(variant["inventoryQuantity"], 0)},
                "image_url": (variant.get("image") or node.get("featuredImage") or {}).get("url"),
            })
        return rows

    async def orders(self, since: str | None) -> AsyncIterator[list[SyncedOrder]]:
        async for _, nodes in self._pages(ORDERS, "orders", since):
            yield [self._order(node) for node in nodes]

    @staticmethod
    def _order(node: dict[str, Any]) -> SyncedOrder:
        total = node["totalPriceSet"]["shopMoney"]
        customer = node.get("customer")
        record = {
            "order_number": node["name"].lstrip("#"),
            "customer_id": numeric_id(customer["id"]) if customer else f"shopify-guest-{numeric_id(node['id'])}",
            "email": node.get("email"),
            "status": order_status(bool(node.get("cancelledAt")), node.get("displayFinancialStatus"),
                                   node.get("displayFulfillmentStatus")),
            "placed_at": node["createdAt"], "cancelled_at": node.get("cancelledAt"),
            "total": money(total["amount"]), "currency": total["currencyCode"],
            "items": [
                {"product_id": product_id(NAME, line["variant"]["id"]), "quantity": line["quantity"],
                 "unit_price": money(line["originalUnitPriceSet"]["shopMoney"]["amount"])}
                for line in node["lineItems"]["nodes"] if line.get("variant")
            ],
        }
        return SyncedOrder(record, node["id"], node["updatedAt"])

    async def cancel_order(self, external_id: str, reason: str) -> None:
        """``orderCancel``; ``INVALID`` is Shopify's "no" (fulfilled, already cancelled), other codes are faults.

        A repeat after a lost answer finds the order cancelled already: that is success, not a refusal.
        """
        data = await self.graphql(CANCEL, {"orderId": external_id, "staffNote": f"Asked in chat: {reason}"[:255]})
        errors = data["orderCancel"]["orderCancelUserErrors"]
        if not errors:
            return
        message = f"shopify refused to cancel {external_id}: {errors[0]['message']} ({errors[0].get('code')})"
        if errors[0].get("code") == "INTERNAL_ERROR":
            raise PlatformError(message, retry=True)
        if errors[0].get("code") != "INVALID":
            raise PlatformError(message, retry=False)
        state = await self.graphql(CANCELLED, {"id": external_id})
        if not (state.get("order") or {}).get("cancelledAt"):
            raise PlatformError(message, retry=False, refusal=errors[0]["message"])

    async def request_return(self, external_id: str, items: list[dict[str, Any]], reason: str, note: str) -> str:
        data = await self.graphql(FULFILLED_LINES, {"id": external_id})
        fulfilled: dict[str, list[dict[str, Any]]] = {}
        for fulfillment in (data.get("order") or {}).get("fulfillments") or []:
            for line in fulfillment["fulfillmentLineItems"]["nodes"]:
                variant = (line["lineItem"] or {}).get("variant")
                if variant:
                    fulfilled.setdefault(product_id(NAME, variant["id"]), []).append(line)
        lines = []
        for item in items:
            for line in fulfilled.get(item["product_id"], [])[:1]:
                lines.append({"fulfillmentLineItemId": line["id"],
                              "quantity": min(int(item.get("quantity") or 1), line["quantity"]),
                              "returnReason": return_reason(reason), "customerNote": note[:300]})
        if not lines:
            raise PlatformError(f"shopify order {external_id} has no fulfilled line for the products to return",
                                retry=False)
        result = (await self.graphql(RETURN_REQUEST, {"input": {"orderId": external_id, "returnLineItems": lines}}))
        payload = result["returnRequest"]
        if payload["userErrors"]:
            raise PlatformError(f"shopify refused the return: {payload['userErrors'][0]['message']}", retry=False)
        return str(payload["return"]["id"])

    async def close(self) -> None:
        await self.http.close()


def verify_webhook(secret: str, headers: Mapping[str, str], body: bytes, now: datetime) -> bool:
    """``X-Shopify-Hmac-Sha256`` matches the body, and ``X-Shopify-Triggered-At`` (when sent) is recent."""
    if not secret or not same(headers.get("X-Shopify-Hmac-Sha256"), hmac_base64(secret, body)):
        return False
    triggered = headers.get("X-Shopify-Triggered-At")
    try:
        return triggered is None or fresh(parse_iso(triggered), now)
    except ValueError:
        return False


def order_update(headers: Mapping[str, str], payload: dict[str, Any]) -> OrderUpdate | None:
    """An ``orders/*`` webhook (the REST order resource) as an update; other topics are ``None``."""
    if headers.get("X-Shopify-Topic") not in TOPICS or "id" not in payload:
        return None
    status = order_status(bool(payload.get("cancelled_at")), payload.get("financial_status"),
                          payload.get("fulfillment_status"))
    external = payload.get("admin_graphql_api_id") or f"gid://shopify/Order/{payload['id']}"
    changed = payload.get("cancelled_at") if status == "cancelled" else payload.get("updated_at")
    return OrderUpdate(NAME, str(external), status, parse_iso(changed)) if changed else OrderUpdate(
        NAME, str(external), status)


def make_transport(settings: Settings, http: aiohttp.ClientSession) -> Transport:
    """``SHOP_BACKEND=shopify``: outbox requests become calls to this platform (:mod:`assistant.integrations.transport`)."""
    from assistant.integrations.transport import transport_for

    return transport_for(NAME, settings, http)
