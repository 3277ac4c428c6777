"""What the console shows about the shopper: verified customer, recent orders, consent, cart."""

from __future__ import annotations

from typing import Any

from assistant.store.db import UnitOfWork

RECENT_ORDERS = 5


def customer_profile(uow: UnitOfWork, customer_id: str | None, sender_id: str) -> dict[str, Any]:
    """The verified customer's recent orders and consent, and the conversation's cart."""
    customer = uow.customers.get(customer_id) if customer_id else None
    cart = uow.carts.get(customer_id=customer.id) if customer else uow.carts.get(session_key=sender_id)
    lines = uow.carts.lines(cart) if cart else []
    profile: dict[str, Any] = {
        "customer": None,
        "orders": [],
        "cart": [
            {"product_id": line.product_id, "title": line.title, "quantity": line.quantity,
             "unit_price": line.unit_price, "currency": line.currency}
            for line in lines
        ],
    }
    if customer is not None:
        profile["customer"] = {
            "id": customer.id, "name": customer.name, "email": customer.email, "loyalty_tier": customer.loyalty_tier,
            "personalization_consent": customer.personalization_consent, "marketing_consent": customer.marketing_consent,
        }
        profile["orders"] = [
            {"order_number": order.order_number, "status": order.status, "placed_at": order.placed_at.isoformat(),
             "total": order.total, "currency": order.currency}
            for order in uow.orders.recent_for_customer(customer.id, limit=RECENT_ORDERS)
        ]
    return profile
