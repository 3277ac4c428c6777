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

from assistant.integrations import medusa, shopify, woocommerce
from assistant.integrations.base import OrderUpdate
from assistant.integrations.updates import apply_webhook_update
from assistant.settings import Settings
from assistant.store.models import utcnow
from assistant.web.keys import SETTINGS, STORE
from assistant.web.middlewares import ApiError
from assistant.web.telling import tell_shoppers_soon


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
    applied = await asyncio.to_thread(apply_webhook_update, request.app[STORE], update)
    if applied is None:
        return web.json_response({"ignored": f"order {update.external_id} was not imported from {name}"})
    if applied.notices:  # told after the answer, as POST /api/events does: a slow Rasa never holds it up
        tell_shoppers_soon(request.app)
    return web.json_response({"order_number": applied.order_number, "status": update.status,
                              "outcome": applied.outcome})
