"""A platform's word on an order's status, applied as the store's updates are (:mod:`assistant.backend.inbound`).

Webhooks and syncs both report the platform's status of an order. Either goes through the
same ``order_status`` update as ``POST /api/events``: an update older than the order's last
change is stale, a confirmed cancellation turns the order cancelled and leaves a notice for
the shopper's conversation, and the web app's backend pass tells it.  Two platform habits
are allowed for: while a cancellation asked in chat is pending, an update still saying
``placed`` or ``paid`` is no answer (Shopify cancels in a background job and may report the
order before it is done; WooCommerce reports any edit), and a platform that dates its changes
in whole seconds may date its answer in the same second as the request, which still follows it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from assistant.backend.inbound import UpdateApplier, parse_update
from assistant.integrations.base import OrderUpdate
from assistant.store.db import Store, UnitOfWork
from assistant.store.models import CANCELLATION_REQUESTED, Order, utcnow

NOT_A_REFUSAL = frozenset({"placed", "paid"})


@dataclass(frozen=True)
class Applied:
    """What became of one platform status: ``outcome`` is applied, unchanged, stale or ignored."""

    order_number: str
    outcome: str
    notices: int


def apply_status(uow: UnitOfWork, order: Order, status: str, at: datetime) -> Applied:
    """Apply the platform's ``status`` of ``order`` dated ``at`` in the caller's unit of work."""
    if order.status == CANCELLATION_REQUESTED:
        if status in NOT_A_REFUSAL:
            return Applied(order.order_number, "ignored", 0)
        at = max(at, order.status_updated_at or at)
    now = utcnow()
    applier = UpdateApplier(uow)
    applier.apply(parse_update({"type": "order_status", "order_number": order.order_number, "status": status,
                                "at": min(at, now).isoformat()}, now))  # min: a platform clock ahead of ours
    return Applied(order.order_number, next(iter(applier.outcomes)), applier.notices)


def apply_webhook_update(store: Store, update: OrderUpdate) -> Applied | None:
    """One verified webhook's update in its own transaction; ``None`` for an order never imported."""
    with store.unit_of_work() as uow:
        number = uow.platform_sync.order_number(update.platform, update.external_id)
        order = uow.orders.by_number(number) if number else None
        if order is None:
            return None
        applied = apply_status(uow, order, update.status, update.at)
        uow.commit()
    return applied
