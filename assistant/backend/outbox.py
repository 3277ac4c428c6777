"""The durable outbox of requests to the store: written with the change, delivered later, never lost.

How to use it (for whoever adds a new kind of request or a new transport):

* A change that the store must hear of calls ``enqueue(uow, kind, payload, order_id=...)`` inside
  the caller's unit of work, before ``uow.commit()``: the request exists exactly when the change
  does. A ``key`` makes the request idempotent: enqueueing the same key twice stores it once.
* :class:`OutboxDeliverer` hands each pending entry to a :class:`Transport` (``send(entry)``),
  oldest first, the entries of one order strictly in order (a later one waits while an earlier
  one is pending), retrying with exponential backoff while the transport raises
  ``DeliveryFailed(retry=True)``, and parking an entry for a person when it raises
  ``DeliveryFailed(retry=False)``. Every attempt carries the entry's idempotency key, so the
  store can drop the repeat of a request whose answer was lost: exactly once by key.
* Several deliverers may run at once (the web app's task and ``shop-assistant backend deliver``):
  an entry is claimed with a compare-and-set on its attempt counter and a lease, so only one of
  them sends it at a time.
* A transport for ``SHOP_BACKEND=<name>`` is a module function ``make_transport(settings, http)``
  listed in :data:`TRANSPORT_FACTORIES`; it returns an object with ``async def send(entry)``.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

import aiohttp

from assistant.store.models import OUTBOX_KINDS, BackendOutboxRow, utcnow

if TYPE_CHECKING:
    from assistant.settings import Settings
    from assistant.store.db import Store, UnitOfWork

log = logging.getLogger(__name__)

# SHOP_BACKEND name -> "module:function" building its transport from (settings, aiohttp session).
TRANSPORT_FACTORIES: dict[str, str] = {
    "webhook": "assistant.backend.webhook:make_transport",
    "shopify": "assistant.integrations.shopify:make_transport",
    "woocommerce": "assistant.integrations.woocommerce:make_transport",
    "medusa": "assistant.integrations.medusa:make_transport",
}


@dataclass(frozen=True)
class OutboxEntry:
    """One request as a transport sees it (a copy: transports never touch the database)."""

    id: int
    idempotency_key: str
    kind: str  # one of assistant.store.models.OUTBOX_KINDS
    order_id: str | None  # the order number the store knows, or None for requests about no order
    payload: dict[str, Any]
    created_at: datetime
    attempts: int  # including this one


class DeliveryFailed(Exception):
    """Raised by a transport: ``retry=True`` for "try again later" (down, 5xx, 429, timeout),
    ``retry=False`` for "the store will never accept this" (a 4xx that is not about load)."""

    def __init__(self, message: str, *, retry: bool) -> None:
        super().__init__(message)
        self.retry = retry


class Transport(Protocol):
    async def send(self, entry: OutboxEntry) -> None:
        """Deliver ``entry`` or raise :class:`DeliveryFailed`; must be safe to repeat with the same key."""


def make_transport(settings: Settings, http: aiohttp.ClientSession) -> Transport:
    """The transport ``SHOP_BACKEND`` names, built from its module's ``make_transport``."""
    target = TRANSPORT_FACTORIES.get(settings.backend)
    if target is None:
        raise ValueError(f"SHOP_BACKEND={settings.backend!r} is not one of {', '.join(sorted(TRANSPORT_FACTORIES))}")
    module_name, function_name = target.split(":")
    factory = getattr(importlib.import_module(module_name), function_name)
    transport: Transport = factory(settings, http)
    return transport


def enqueue(
    uow: UnitOfWork, kind: str, payload: dict[str, Any], *, order_id: str | None = None, key: str | None = None
) -> str:
    """Write a request to the store into the caller's transaction and return its idempotency key.

    Nothing is sent here: the request leaves when the caller commits and a deliverer runs. A
    ``key`` already in the outbox adds nothing (the earlier request stands), so a retried
    action or a repeated webhook cannot ask the store twice.
    """
    if kind not in OUTBOX_KINDS:
        raise ValueError(f"unknown outbox kind {kind!r}")
    key = key or f"{kind}:{uuid.uuid4().hex}"
    uow.outbox.add(key, kind, payload, order_id)
    return key


INFORMATIONAL_KINDS = frozenset({"cart_changed", "handoff_opened", "handoff_closed", "alert_changed", "consent_changed"})


def tell_store(uow: UnitOfWork, settings: Settings, kind: str, payload: dict[str, Any], *,
               order_id: str | None = None, key: str | None = None) -> str | None:
    """:func:`enqueue` for what the store only needs to know (cart, handoff, alert, consent changes).

    Written only when a store backend is configured, so a store without one does not collect
    a queue nobody reads; requests the store must act on (cancellations, returns) always go
    through :func:`enqueue` and wait for a backend.
    """
    if kind not in INFORMATIONAL_KINDS:
        raise ValueError(f"{kind!r} must be enqueued, not told: the store has to act on it")
    if settings.backend == "webhook" and not settings.backend_webhook_url:
        return None
    return enqueue(uow, kind, payload, order_id=order_id, key=key)


@dataclass
class DeliveryReport:
    delivered: list[str] = field(default_factory=list)  # idempotency keys
    retrying: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return f"{len(self.delivered)} delivered, {len(self.retrying)} to retry, {len(self.failed)} refused by the store"


def backoff(attempts: int, base: float, cap: float) -> float:
    """Seconds to wait after the ``attempts``-th failure: base, 2 base, 4 base ... at most ``cap``."""
    return float(min(cap, base * 2 ** max(0, attempts - 1)))


class OutboxDeliverer:
    """Sends pending outbox entries through a transport; one :meth:`run_once` is one pass."""

    def __init__(
        self,
        store: Store,
        transport: Transport,
        *,
        base_delay: float = 2.0,
        max_delay: float = 900.0,
        lease_seconds: float = 60.0,
        batch_size: int = 100,
    ) -> None:
        self.store = store
        self.transport = transport
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.lease_seconds = lease_seconds
        self.batch_size = batch_size

    def _due(self, now: datetime) -> list[BackendOutboxRow]:
        """The entries that may be sent now: due, and the oldest pending one of their order."""
        with self.store.unit_of_work() as uow:
            pending = uow.outbox.pending(self.batch_size * 4)
        heads: list[BackendOutboxRow] = []
        seen_orders: set[str] = set()
        for row in pending:
            if row.order_id is not None:
                if row.order_id in seen_orders:
                    continue  # an earlier request about this order is still pending
                seen_orders.add(row.order_id)
            if row.next_attempt_at <= now:
                heads.append(row)
        return heads[: self.batch_size]

    def _claim(self, row: BackendOutboxRow, now: datetime) -> OutboxEntry | None:
        """Take the entry for one attempt (compare-and-set on its attempt counter), or None if another runner did."""
        with self.store.unit_of_work() as uow:
            taken = uow.outbox.claim(row, now + timedelta(seconds=self.lease_seconds))
            uow.commit()
            if not taken:
                return None
        return OutboxEntry(
            id=row.id, idempotency_key=row.idempotency_key, kind=row.kind, order_id=row.order_id,
            payload=dict(row.payload), created_at=row.created_at, attempts=row.attempts + 1,
        )

    def _record(self, entry: OutboxEntry, error: str | None = None, retry_at: datetime | None = None) -> None:
        """Write what became of an attempt: delivered (no ``error``), to retry at ``retry_at``, or refused for good."""
        with self.store.unit_of_work() as uow:
            if error is None:
                uow.outbox.delivered(entry.id)
            elif retry_at is not None:
                uow.outbox.retry_at(entry.id, error, retry_at)
            else:
                uow.outbox.refused(entry.id, error)
            uow.commit()

    async def run_once(self) -> DeliveryReport:
        """One pass over what is due; entries of one order go one at a time, so at most one per order per pass."""
        report = DeliveryReport()
        now = utcnow()
        for row in await asyncio.to_thread(self._due, now):
            entry = await asyncio.to_thread(self._claim, row, now)
            if entry is None:
                continue
            try:
                await self.transport.send(entry)
            except DeliveryFailed as error:
                if error.retry:
                    wait = backoff(entry.attempts, self.base_delay, self.max_delay)
                    await asyncio.to_thread(self._record, entry, str(error)[:2000], utcnow() + timedelta(seconds=wait))
                    report.retrying.append(entry.idempotency_key)
                else:
                    await asyncio.to_thread(self._record, entry, str(error)[:2000])
                    report.failed.append(entry.idempotency_key)
                    log.warning("the store refused %s %s: %s", entry.kind, entry.idempotency_key, error)
                continue
            await asyncio.to_thread(self._record, entry)
            report.delivered.append(entry.idempotency_key)
        return report

    async def run_until_idle(self, max_passes: int = 1000) -> DeliveryReport:
        """Passes until nothing is due now (``backend deliver --once``: empty the queue of what can go)."""
        total = DeliveryReport()
        for _ in range(max_passes):
            report = await self.run_once()
            total.delivered += report.delivered
            total.retrying += report.retrying
            total.failed += report.failed
            if not report.delivered:
                break
        return total


def store_backlog(uow: UnitOfWork, older_than_seconds: float = 30.0) -> bool:
    """Whether the store is not taking requests right now: one waits after a failed attempt.

    Said to the shopper ("your request is saved and goes through when it's back"), not used to decide anything.
    """
    return uow.outbox.backlog(utcnow() - timedelta(seconds=older_than_seconds))
