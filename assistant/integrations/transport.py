"""The outbox transport for a platform backend (``SHOP_BACKEND=shopify|woocommerce|medusa``).

A cancellation asked in chat becomes the platform's cancel call and a return request its
return call, for the platform order the sync recorded beside our order number
(``platform_orders``).  Every other kind (cart changes, handoffs, alerts, consent) has no
counterpart on these platforms and is acknowledged without a call.  The platform confirms a
cancellation with a webhook (``/api/integrations/{platform}/webhook``): only then does the
order turn cancelled, as with the generic webhook backend.  When the platform refuses it
outright (an order fulfilled meanwhile), that is its answer too: the order goes back to its
status and the shopper is told why, as with a ``cancellation_refused`` update.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import aiohttp

from assistant.backend.inbound import UpdateApplier, parse_update
from assistant.backend.outbox import DeliveryFailed, OutboxEntry
from assistant.integrations import open_platform
from assistant.integrations.base import Platform, PlatformError
from assistant.settings import Settings
from assistant.store.db import open_store
from assistant.store.models import utcnow

HANDLED_KINDS = ("cancellation_requested", "return_requested")


def external_order_id(database_url: str, platform: str, order_number: str) -> str | None:
    """The platform's id of one of our orders, as the last sync recorded it."""
    with open_store(database_url) as store, store.unit_of_work() as uow:
        return uow.platform_sync.external_id(platform, order_number)


def record_refusal(database_url: str, order_number: str, reason: str) -> None:
    """The platform said no to a cancellation: the same ``cancellation_refused`` update a store sends to /api/events."""
    with open_store(database_url) as store, store.unit_of_work() as uow:
        update = parse_update({"type": "cancellation_refused", "order_number": order_number, "reason": reason}, utcnow())
        UpdateApplier(uow).apply(update)
        uow.commit()


class PlatformTransport:
    """Delivers outbox entries as calls to one platform; the adapter is built on the first call that needs it."""

    def __init__(self, name: str, settings: Settings, build: Callable[[], Platform]) -> None:
        self.name = name
        self.database_url = settings.database_url
        self._build = build
        self._platform: Platform | None = None

    def _adapter(self) -> Platform:
        if self._platform is None:
            try:
                self._platform = self._build()
            except PlatformError as error:  # not configured yet: keep the request until it is
                raise DeliveryFailed(str(error), retry=True) from error
        return self._platform

    async def send(self, entry: OutboxEntry) -> None:
        if entry.kind not in HANDLED_KINDS:
            return
        number = entry.order_id or str(entry.payload.get("order_number") or "")
        external = await asyncio.to_thread(external_order_id, self.database_url, self.name, number)
        if external is None:
            raise DeliveryFailed(f"order {number!r} was not imported from {self.name} "
                                 f"(run `shop-assistant sync {self.name}`); the request cannot reach it", retry=False)
        platform = self._adapter()
        reason = str(entry.payload.get("reason") or "asked by the customer in chat")
        try:
            if entry.kind == "cancellation_requested":
                await platform.cancel_order(external, reason)
            else:
                items = [item for item in entry.payload.get("items") or [] if isinstance(item, dict)]
                note = " ".join(f"{label}: {entry.payload[key]}." for key, label in
                                (("return_number", "Return"), ("refund_method", "Refund to")) if entry.payload.get(key))
                await platform.request_return(external, items, reason, note)
        except PlatformError as error:
            if entry.kind == "cancellation_requested" and error.refusal is not None:
                await asyncio.to_thread(record_refusal, self.database_url, number, error.refusal)
                return  # answered: the order goes back to its status and the shopper is told why
            raise DeliveryFailed(str(error), retry=error.retry) from error


def transport_for(name: str, settings: Settings, http: aiohttp.ClientSession) -> PlatformTransport:
    """``make_transport`` of each adapter module: the platform on the deliverer's HTTP session."""
    return PlatformTransport(name, settings, lambda: open_platform(name, settings, http))
