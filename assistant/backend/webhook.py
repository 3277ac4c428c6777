"""The default transport: a signed HTTPS POST of each outbox entry to ``SHOP_BACKEND_WEBHOOK_URL``.

The request body is the JSON ``{"id": key, "kind": ..., "order_id": ..., "created_at": ..., "data": payload}``
and carries three headers the store checks (README "Store backend contract"):

* ``X-Shop-Timestamp``: seconds since the epoch when this attempt was signed; the store refuses
  stale ones (:data:`REPLAY_WINDOW_SECONDS`) so a captured request cannot be replayed later.
* ``X-Shop-Signature``: ``sha256=`` + hex HMAC-SHA256 of ``"{timestamp}." + body`` with ``SHOP_WEBHOOK_SECRET``.
* ``Idempotency-Key``: the same on every attempt of one request; the store handles a key once.

A 2xx answer (409 too: "already have it") delivers the entry; 408, 425, 429 and 5xx, timeouts
and refused connections are retried; any other 4xx parks it for a person.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import aiohttp

from assistant.backend.outbox import DeliveryFailed, OutboxEntry, Transport
from assistant.settings import Settings

REPLAY_WINDOW_SECONDS = 300
RETRYABLE_STATUSES = frozenset({408, 425, 429})
TIMEOUT = aiohttp.ClientTimeout(total=15)


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The ``X-Shop-Signature`` value of ``body`` signed at ``timestamp``."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify(secret: str, timestamp: str, body: bytes, signature: str, *, now: float | None = None,
           window: int = REPLAY_WINDOW_SECONDS) -> bool:
    """What a receiver checks: a fresh timestamp and a matching signature (compared in constant time)."""
    if not secret or not timestamp.isdigit():
        return False
    if abs((time.time() if now is None else now) - int(timestamp)) > window:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


def body_of(entry: OutboxEntry) -> bytes:
    """The JSON document the store receives for ``entry`` (stable key order, so it can be re-signed)."""
    document = {
        "id": entry.idempotency_key, "kind": entry.kind, "order_id": entry.order_id,
        "created_at": entry.created_at.isoformat(), "attempt": entry.attempts, "data": entry.payload,
    }
    return json.dumps(document, sort_keys=True, separators=(",", ":")).encode()


class WebhookTransport:
    """POSTs each entry to one URL, signed with one secret."""

    def __init__(self, http: aiohttp.ClientSession, url: str, secret: str) -> None:
        self.http = http
        self.url = url
        self.secret = secret

    async def send(self, entry: OutboxEntry) -> None:
        if not self.url or not self.secret:
            raise DeliveryFailed("SHOP_BACKEND_WEBHOOK_URL and SHOP_WEBHOOK_SECRET must both be set", retry=True)
        body = body_of(entry)
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json",
            "X-Shop-Timestamp": timestamp,
            "X-Shop-Signature": sign(self.secret, timestamp, body),
            "Idempotency-Key": entry.idempotency_key,
            "X-Shop-Event": entry.kind,
        }
        try:
            async with self.http.post(self.url, data=body, headers=headers, timeout=TIMEOUT) as response:
                status = response.status
                detail = (await response.text())[:300]
        except (aiohttp.ClientError, TimeoutError) as error:
            raise DeliveryFailed(f"store backend unreachable: {error.__class__.__name__}: {error}", retry=True) from error
        if 200 <= status < 300 or status == 409:
            return
        retry = status >= 500 or status in RETRYABLE_STATUSES
        raise DeliveryFailed(f"store backend answered {status}: {detail}", retry=retry)


def make_transport(settings: Settings, http: aiohttp.ClientSession) -> Transport:
    """``SHOP_BACKEND=webhook``."""
    return WebhookTransport(http, settings.backend_webhook_url, settings.webhook_secret)
