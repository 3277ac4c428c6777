"""``POST /api/events``: the storefront reports views, searches, cart changes and orders.

Only the store's backend may call it: it sends ``Authorization: Bearer $SHOP_STOREFRONT_KEY``
(a key separate from the customer-token secret, so it can be rotated on its own). The body is
one event or a list of up to :data:`MAX_EVENTS`::

    {"type": "view", "customer_id": "C123", "product_id": "P00001", "at": "2026-11-23T10:00:00Z"}
    {"type": "search", "customer_token": "<signed token>", "query": "red running shoes"}
    {"type": "add_to_cart", "session_id": "<the store's anonymous session>", "product_id": "P00001"}

``type`` is view, search, add_to_cart, remove_from_cart or order (stored as ``purchase``);
exactly one of ``customer_id``, ``customer_token`` or ``session_id`` says whose it is; product
events name a product the store knows; ``at`` (ISO 8601, default now) may not lie in the future.
A batch is stored whole or not at all, so a storefront can resend it after any error; every
problem is reported with the index of the event it was found in. Customers are created on
first sight.

The store's backend reports its own changes on the same endpoint, in the same batches: order
status (a cancellation confirmed or refused), returns, refunds, stock and prices
(:mod:`assistant.backend.inbound`). Answers to what a shopper asked in chat are told in their
conversation once the batch is stored.
"""

from __future__ import annotations

import asyncio
import hmac
import re
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web

from assistant.backend.inbound import UPDATE_TYPES, StoreUpdate, UnknownReference, UpdateApplier, parse_update
from assistant.identity import DEFAULT_MAX_TTL, verify_customer_token
from assistant.settings import Settings
from assistant.store.db import Store
from assistant.store.models import utcnow
from assistant.web.keys import SETTINGS, STORE
from assistant.web.middlewares import ApiError
from assistant.web.parsing import parse_json
from assistant.web.sessions import bearer_token
from assistant.web.telling import tell_shoppers_soon

MAX_EVENTS = 500
MAX_QUERY_CHARS = 500
CLOCK_SKEW = timedelta(minutes=5)
TYPES = {"view": "view", "search": "search", "add_to_cart": "add_to_cart", "remove_from_cart": "remove_from_cart",
         "order": "purchase", "purchase": "purchase"}
FIELDS = {"type", "customer_id", "customer_token", "session_id", "product_id", "query", "at"}
SAFE_ID = re.compile(r"[A-Za-z0-9_.:@-]{1,64}")
SAFE_SESSION = re.compile(r"[A-Za-z0-9_.:-]{1,128}")

@dataclass(frozen=True)
class IncomingEvent:
    type: str
    customer_id: str | None
    session_id: str | None
    product_id: str | None
    query: str | None
    at: datetime


def _authorize(request: web.Request, settings: Settings) -> None:
    offered = bearer_token(request) or ""
    if not settings.storefront_key or not hmac.compare_digest(offered.encode(), settings.storefront_key.encode()):
        raise ApiError(401, "a valid storefront key is required (Authorization: Bearer <SHOP_STOREFRONT_KEY>)")


def _at(raw: Any, now: datetime) -> datetime:
    if raw is None:
        return now
    if not isinstance(raw, str):
        raise ValueError("at must be an ISO 8601 date-time string")
    try:
        at = datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"at is not an ISO 8601 date-time: {raw[:40]!r}") from None
    at = at if at.tzinfo else at.replace(tzinfo=UTC)
    if at > now + CLOCK_SKEW:
        raise ValueError("at lies in the future")
    return at


def _owner(raw: dict[str, Any], store_secret: str, max_ttl: int) -> tuple[str | None, str | None]:
    """``(customer_id, session_id)`` from exactly one of the three owner fields."""
    given = [name for name in ("customer_id", "customer_token", "session_id") if raw.get(name) is not None]
    if len(given) != 1:
        raise ValueError("give exactly one of customer_id, customer_token or session_id")
    value = raw[given[0]]
    if not isinstance(value, str):
        raise ValueError(f"{given[0]} must be a string")
    if given[0] == "customer_token":
        customer_id = verify_customer_token(value, store_secret, max_ttl=max_ttl)
        if customer_id is None:
            raise ValueError("customer_token is invalid or expired")
        return customer_id, None
    pattern = SAFE_ID if given[0] == "customer_id" else SAFE_SESSION
    if not pattern.fullmatch(value):
        raise ValueError(f"{given[0]} must be 1-{64 if given[0] == 'customer_id' else 128} letters, digits or _.:@-")
    return (value, None) if given[0] == "customer_id" else (None, value)


def parse_event(raw: Any, store_secret: str, now: datetime, max_ttl: int = DEFAULT_MAX_TTL) -> IncomingEvent:
    """One event checked field by field; raises ``ValueError`` with a message for the storefront."""
    if not isinstance(raw, dict):
        raise ValueError("each event must be a JSON object")
    unknown = set(raw) - FIELDS
    if unknown:
        raise ValueError(f"unknown fields {sorted(unknown)}; expected some of {sorted(FIELDS)}")
    named = raw.get("type")
    kind = TYPES.get(named) if isinstance(named, str) else None
    if kind is None:
        raise ValueError("type must be one of view, search, add_to_cart, remove_from_cart, order, "
                         f"or a store update: {', '.join(sorted(UPDATE_TYPES))}")
    customer_id, session_id = _owner(raw, store_secret, max_ttl)
    product_id, query = raw.get("product_id"), raw.get("query")
    if kind == "search":
        if not isinstance(query, str) or not query.strip():
            raise ValueError("a search event needs its query text")
        if len(query) > MAX_QUERY_CHARS:
            raise ValueError(f"query is longer than {MAX_QUERY_CHARS} characters")
        query = query.strip()
    elif query is not None:
        raise ValueError(f"query belongs to search events only, not {raw['type']}")
    if kind != "search" and not (isinstance(product_id, str) and product_id):
        raise ValueError(f"a {raw['type']} event needs a product_id")
    if product_id is not None and not isinstance(product_id, str):
        raise ValueError("product_id must be a string")
    return IncomingEvent(kind, customer_id, session_id, product_id, query, _at(raw.get("at"), now))


def parse_body(
    body: Any, store_secret: str, now: datetime, max_ttl: int = DEFAULT_MAX_TTL
) -> list[IncomingEvent | StoreUpdate]:
    """The whole batch, or ``ApiError(400)`` listing every bad event by index."""
    items = body if isinstance(body, list) else [body]
    if not items:
        raise ApiError(400, "no events given")
    if len(items) > MAX_EVENTS:
        raise ApiError(400, f"at most {MAX_EVENTS} events per request; split the batch")
    events: list[IncomingEvent | StoreUpdate] = []
    errors = []
    for index, raw in enumerate(items):
        try:
            if isinstance(raw, dict) and raw.get("type") in UPDATE_TYPES:
                events.append(parse_update(raw, now))
            else:
                events.append(parse_event(raw, store_secret, now, max_ttl))
        except ValueError as error:
            errors.append({"index": index, "error": str(error)})
    if errors:
        raise ApiError(400, f"{len(errors)} of {len(items)} events are invalid; nothing was stored", errors=errors)
    return events


def store_events(store: Store, batch: list[IncomingEvent | StoreUpdate]) -> dict[str, Any]:
    """Check the products, create unseen customers, insert the events, apply the updates: one transaction."""
    events = [item for item in batch if isinstance(item, IncomingEvent)]
    with store.unit_of_work() as uow:
        wanted = {event.product_id for event in events if event.product_id}
        missing = sorted(wanted - uow.products.known(wanted))
        if missing:
            raise ApiError(400, f"unknown product ids (import the catalog first): {missing[:20]}; nothing was stored",
                           unknown_products=missing[:100])
        created = 0
        for customer_id in sorted({event.customer_id for event in events if event.customer_id}):
            if uow.customers.get(customer_id) is None:
                uow.customers.upsert(customer_id, created_at=utcnow())
                created += 1
        for event in events:
            uow.events.record(event.type, customer_id=event.customer_id, session_id=event.session_id,
                              product_id=event.product_id, query=event.query, at=event.at)
        applier = UpdateApplier(uow)
        for index, item in enumerate(batch):
            if isinstance(item, StoreUpdate):
                try:
                    applier.apply(item)
                except UnknownReference as error:
                    raise ApiError(400, f"event {index}: {error}; nothing was stored",
                                   errors=[{"index": index, "error": str(error)}]) from None
        uow.commit()
    result: dict[str, Any] = {"accepted": len(batch), "by_type": dict(Counter(item.type for item in batch)),
                              "customers_created": created}
    if applier.outcomes:
        result.update(updates=dict(applier.outcomes), shoppers_to_tell=applier.notices)
    return result


async def post_events(request: web.Request) -> web.Response:
    settings = request.app[SETTINGS]
    _authorize(request, settings)
    body = parse_json(await request.read(), "one event object or a list of them")
    events = parse_body(body, settings.store_secret, utcnow(), settings.token_max_ttl)
    result = await asyncio.to_thread(store_events, request.app[STORE], events)
    if result.get("shoppers_to_tell"):
        tell_shoppers_soon(request.app)  # after the answer: a slow Rasa never holds up the store
    return web.json_response(result)
