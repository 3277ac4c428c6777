"""How each platform's order states, return reasons and untracked stock map to the assistant's terms."""

from __future__ import annotations

from typing import Any

import pytest

from assistant.integrations import medusa, shopify, woocommerce
from assistant.integrations.shopify import Shopify
from tests.platform_fakes import load


@pytest.mark.parametrize(("cancelled", "financial", "fulfillment", "expected"), [
    (True, "PAID", "FULFILLED", "cancelled"), (False, "REFUNDED", "FULFILLED", "refunded"),
    (False, "PAID", "FULFILLED", "shipped"), (False, "PAID", "partial", "shipped"), (False, "paid", None, "paid"),
    (False, "PENDING", "UNFULFILLED", "placed"), (False, None, None, "placed"),
])
def test_shopify_order_status(cancelled: bool, financial: str | None, fulfillment: str | None, expected: str) -> None:
    assert shopify.order_status(cancelled, financial, fulfillment) == expected


@pytest.mark.parametrize(("order", "expected"), [
    ({"status": "canceled"}, "cancelled"), ({"status": "pending", "canceled_at": "2026-11-01T00:00:00Z"}, "cancelled"),
    ({"status": "completed", "payment_status": "refunded"}, "refunded"), ({"status": "completed"}, "delivered"),
    ({"status": "pending", "fulfillment_status": "shipped"}, "shipped"),
    ({"status": "pending", "payment_status": "authorized"}, "paid"), ({"status": "pending"}, "placed"),
])
def test_medusa_order_status(order: dict[str, Any], expected: str) -> None:
    assert medusa.order_status(order) == expected


@pytest.mark.parametrize(("status", "expected"), [
    ("pending", "placed"), ("on-hold", "placed"), ("processing", "paid"), ("completed", "delivered"),
    ("cancelled", "cancelled"), ("refunded", "refunded"), ("checkout-draft", "placed"),
])
def test_woocommerce_order_status(status: str, expected: str) -> None:
    update = woocommerce.order_update({"X-WC-Webhook-Topic": "order.updated"},
                                      {"id": 9, "status": status, "date_modified_gmt": "2026-11-01T10:00:00"})
    assert update is not None and update.status == expected and update.external_id == "9"
    assert update.at.isoformat() == "2026-11-01T10:00:00+00:00"


@pytest.mark.parametrize(("reason", "code"), [
    ("it is too small", "SIZE_TOO_SMALL"), ("way too big", "SIZE_TOO_LARGE"), ("arrived damaged", "DEFECTIVE"),
    ("wrong item sent", "WRONG_ITEM"), ("changed my mind", "UNWANTED"), ("", "OTHER"),
])
def test_shopify_return_reason(reason: str, code: str) -> None:
    assert shopify.return_reason(reason) == code


def test_untracked_inventory_is_unknown_stock_not_none() -> None:
    node = load("shopify", "products.json")[1]
    node["variants"]["nodes"][0]["inventoryQuantity"] = None
    assert Shopify._variant_rows(node, "USD")[0]["stock"] == {}


def test_topics_the_assistant_does_not_follow_are_none() -> None:
    assert shopify.order_update({"X-Shopify-Topic": "products/update"}, {"id": 1}) is None
    assert woocommerce.order_update({"X-WC-Webhook-Topic": "product.updated"}, {"id": 1, "status": "x"}) is None
    assert medusa.order_update({}, {"event": "product.updated", "data": {"id": "prod_1"}}) is None
