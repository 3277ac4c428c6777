"""``POST /api/integrations/{platform}/webhook``: a platform's verified order updates.

The platform signs each webhook (Shopify ``X-Shopify-Hmac-Sha256``, WooCommerce
``X-WC-Webhook-Signature``, Medusa the documented ``X-Medusa-Signature``); without the
platform's webhook secret configured nothing is accepted (503), and a request whose signature
does not match the raw body, or whose timestamp is outside the replay window where the platform
sends one, gets 401 and changes nothing.  A verified order update becomes the same
``order_status`` update the store's backend sends to ``POST /api/events`` and goes through the
same code (:mod:`assistant.backend.inbound`): a confirmed cancellation turns the order
cancelled and the shopper is told in their conversation; an update older than what we hold
changes nothing, so a replayed or reordered delivery is harmless.

While a cancellation the shopper asked for is pending, an update that still says ``placed`` or
``paid`` is not a refusal (Shopify cancels in a background job and may send ``orders/updated``
first; WooCommerce sends ``order.updated`` for any edit), so it is acknowledged and ignored.
Topics the assistant has no use for, and orders it never imported, are acknowledged with 200
so the platform does not retry them.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from assistant.backend.inbound import parse_update
from assistant.backend.notify import tell_waiting
from assistant.integrations import medusa, shopify, woocommerce
from assistant.integrations.base import OrderUpdate
from assistant.settings import Settings
from assistant.store.models import CANCELLATION_REQUESTED, Order, PlatformOrder, utcnow
from assistant.web.keys import SETTINGS, STORE
from assistant.web.middlewares import ApiError
from assistant.web.views_events import store_events


class Receiver:
    """How one platform's webhooks are verified and read, and where its secret is configured."""

    def __init__(self, variable: str, secret: Callable[[Settings], str],
                 verify: Callable[[str, Mapping[str, str], bytes, datetime], bool],
                 translate: Callable[[Mapping[str, str], dict[str, Any]], OrderUpdate | None]) -> None:
        self.variable, self.secret, self.verify, self.translate = variable, secret, verify, translate


RECEIVERS = {
    "shopify": Receiver("SHOPIFY_WEBHOOK_SECRET", lambda s: s.shopify_webhook_secret,
                        shopify.verify_webhook, shopify.order_update),
    "woocommerce": Receiver("WOOCOMMERCE_WEBHOOK_SECRET", lambda s: s.woocommerce_webhook_secret,
                            woocommerce.verify_webhook, woocommerce.order_update),
    "medusa": Receiver("MEDUSA_WEBHOOK_SECRET", lambda s: s.medusa_webhook_secret,
                       medusa.verify_webhook, medusa.order_update),
}
NOT_A_REFUSAL = frozenset({"placed", "paid"})
_TELLING: set[asyncio.Task[int]] = set()  # strong references until done (asyncio keeps only weak ones)


def our_order(sessions: sessionmaker[Session], update: OrderUpdate) -> tuple[str, str, datetime | None] | None:
    """``(order number, status, when it last changed)`` of the order the platform means, if it was imported."""
    with sessions() as session:
        row = session.execute(
            select(Order.order_number, Order.status, Order.status_updated_at)
            .join(PlatformOrder, PlatformOrder.order_number == Order.order_number)
            .where(PlatformOrder.platform == update.platform, PlatformOrder.external_id == update.external_id)
        ).first()
    return None if row is None else (row[0], row[1], row[2])


async def post_platform_webhook(request: web.Request) -> web.Response:
    name = request.match_info["platform"]
    receiver = RECEIVERS.get(name)
    if receiver is None:
        raise ApiError(404, f"no such platform {name!r}; expected one of {', '.join(RECEIVERS)}")
    settings = request.app[SETTINGS]
    secret = receiver.secret(settings)
    if not secret:
        raise ApiError(503, f"{receiver.variable} is not set: {name} webhooks are refused until it is")
    body = await request.read()
    if not receiver.verify(secret, request.headers, body, utcnow()):
        raise ApiError(401, f"the {name} webhook signature does not match the body, or the request is too old")
    try:
        payload = json.loads(body)
    except ValueError:
        payload = None  # WooCommerce's ping on webhook creation is a form body
    update = receiver.translate(request.headers, payload) if isinstance(payload, dict) else None
    if update is None:
        return web.json_response({"ignored": "not an order update the assistant follows"})
    order = await asyncio.to_thread(our_order, request.app[STORE], update)
    if order is None:
        return web.json_response({"ignored": f"order {update.external_id} was not imported from {name}"})
    number, status, changed_at = order
    at = update.at
    if status == CANCELLATION_REQUESTED:
        if update.status in NOT_A_REFUSAL:
            return web.json_response({"ignored": f"order {number} awaits its cancellation; {update.status} is no answer"})
        # The platform's answer to our request follows it, even when the platform dates it in whole seconds
        # (WooCommerce) and it lands in the same second as the request.
        at = max(at, changed_at or at)
    now = utcnow()
    store_update = parse_update({"type": "order_status", "order_number": number, "status": update.status,
                                 "at": min(at, now).isoformat()}, now)  # min: a platform clock ahead of ours
    result = await asyncio.to_thread(store_events, request.app[STORE], [store_update])
    if result["shoppers_to_tell"]:  # after the answer, as POST /api/events does: a slow Rasa never holds it up
        task = asyncio.create_task(asyncio.to_thread(tell_waiting, settings, request.app[STORE]))
        _TELLING.add(task)
        task.add_done_callback(_TELLING.discard)
    return web.json_response({"order_number": number, "status": update.status, "updates": result["updates"]})


def setup_platform_webhooks(app: web.Application) -> None:
    app.router.add_post("/api/integrations/{platform}/webhook", post_platform_webhook)
