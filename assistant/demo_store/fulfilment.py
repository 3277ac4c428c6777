"""What became of a generated order: its status by age, its shipment and carrier, its refund.

An order's status follows its age relative to the reference time (:data:`STATUS_BY_AGE`):
the last days hold orders that are placed, paid, shipped, out for delivery or delayed,
older ones are delivered, returned, refunded or cancelled, and the shipment and refund
fields agree with the status.  Nothing reads the clock, so the same seed gives the same orders.
"""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta
from typing import Any

from assistant.demo_store.vocab import CARRIERS, DELAY_REASONS, SHIPPING_METHODS

ORDER_STATUSES = (
    "placed", "paid", "shipped", "out_for_delivery", "delivered", "delayed", "cancelled", "returned", "refunded",
)
SHIPMENT_STATUSES = ("pending", "in_transit", "out_for_delivery", "delayed", "delivered")
REFUND_STATUSES = ("requested", "approved", "refunded")
# Which statuses an order of a given age (days before the reference time) can be in.
STATUS_BY_AGE: tuple[tuple[float, tuple[tuple[str, int], ...]], ...] = (
    (0.5, (("placed", 6), ("paid", 4))),
    (1.5, (("paid", 5), ("placed", 2), ("shipped", 3), ("cancelled", 1))),
    (4.0, (("shipped", 6), ("out_for_delivery", 2), ("delayed", 2), ("paid", 1), ("cancelled", 1))),
    (8.0, (("delivered", 11), ("out_for_delivery", 2), ("shipped", 2), ("delayed", 3), ("cancelled", 1), ("returned", 1))),
    (21.0, (("delivered", 80), ("delayed", 4), ("returned", 9), ("refunded", 3), ("cancelled", 4))),
    (math.inf, (("delivered", 89), ("refunded", 6), ("cancelled", 5))),
)


def iso(moment: datetime) -> str:
    """ISO 8601 with the UTC offset and whole seconds, the form every history file uses."""
    return moment.astimezone(UTC).replace(microsecond=0).isoformat()


def _tracking_number(rng: random.Random, carrier: str) -> str:
    digits = "0123456789"
    if carrier == "UPS":
        return "1Z" + "".join(rng.choices("0123456789ABCDEFGHJKLMNPRSTUVWXY", k=6)) + "".join(rng.choices(digits, k=10))
    if carrier == "USPS":
        return "9400" + "".join(rng.choices(digits, k=18))
    return "".join(rng.choices(digits, k=12 if carrier == "FedEx" else 10))


def _status(rng: random.Random, age_days: float) -> str:
    for limit, table in STATUS_BY_AGE:
        if age_days < limit:
            return rng.choices([name for name, _ in table], [weight for _, weight in table])[0]
    raise AssertionError("STATUS_BY_AGE ends with infinity")


def fulfil(rng: random.Random, order: dict[str, Any], placed: datetime, now: datetime) -> None:
    """Give an order its status, shipment and refund, consistent with its age."""
    age = (now - placed).total_seconds() / 86_400
    status = _status(rng, age)
    method, fastest, slowest = rng.choices(SHIPPING_METHODS, (80, 20))[0]
    carrier = rng.choice(CARRIERS[:2] if method == "express" else CARRIERS)
    order.update(status=status, shipping_method=method, cancelled_at=None, refund=None)

    if status == "cancelled":
        order["cancelled_at"] = iso(placed + timedelta(days=rng.uniform(0.01, min(0.9, age * 0.8))))
        order["shipment"] = None
        return
    shipment: dict[str, Any] = {
        "carrier": carrier, "tracking_number": None, "status": "pending", "shipped_at": None,
        "estimated_delivery": None, "delivered_at": None, "delay_reason": None,
    }
    order["shipment"] = shipment
    if status in ("placed", "paid"):
        shipment["estimated_delivery"] = iso(placed + timedelta(days=1 + slowest))
        return

    shipped = placed + timedelta(days=min(rng.uniform(0.2, 1.2), age * 0.6))
    estimate = shipped + timedelta(days=rng.randint(fastest, slowest))
    shipment.update(tracking_number=_tracking_number(rng, carrier), shipped_at=iso(shipped))
    if status == "shipped":
        shipment.update(status="in_transit", estimated_delivery=iso(max(estimate, now + timedelta(hours=12))))
    elif status == "out_for_delivery":
        evening = max(now.replace(hour=21, minute=0, second=0), now + timedelta(hours=1))
        shipment.update(status="out_for_delivery", estimated_delivery=iso(evening))
    elif status == "delayed":
        shipment.update(status="delayed", estimated_delivery=iso(now + timedelta(days=rng.randint(2, 5))),
                        delay_reason=rng.choice(DELAY_REASONS))
    else:
        delivered = shipped + timedelta(days=rng.uniform(fastest, slowest + 0.5))
        if delivered >= now:
            delivered = shipped + (now - shipped) * rng.uniform(0.5, 0.95)
        shipment.update(status="delivered", estimated_delivery=iso(estimate), delivered_at=iso(delivered))
        if status in ("returned", "refunded"):
            order["refund"] = _refund(rng, order, status, delivered, now)


def _refund(rng: random.Random, order: dict[str, Any], status: str, delivered: datetime, now: datetime) -> dict[str, Any]:
    """The refund of one returned line (or the whole order when it has one line)."""
    line = rng.choice(order["items"])
    amount = round(line["unit_price"] * line["quantity"], 2)
    if status == "returned":
        return {"status": rng.choice(REFUND_STATUSES[:2]), "amount": amount, "refunded_at": None}
    refunded = delivered + timedelta(days=rng.uniform(5, 14))
    if refunded >= now:
        refunded = delivered + (now - delivered) * 0.8
    return {"status": "refunded", "amount": amount, "refunded_at": iso(refunded)}
