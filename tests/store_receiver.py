"""A local aiohttp app that plays the store's backend: it verifies every signature and
handles each idempotency key once, as the README's "Store backend contract" asks a store to.

``up`` switches it between answering 503 and accepting; ``lose_answers`` makes it process a
request and then answer 500 (the answer lost on the way), so the next attempt is a repeat.
"""

from __future__ import annotations

import asyncio
import html
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from assistant.backend.webhook import verify
from assistant.launcher import free_port
from tests.threaded_server import serving


@dataclass
class StoreReceiver:
    secret: str
    up: bool = True
    lose_answers: int = 0
    attempts: list[str] = field(default_factory=list)  # every key POSTed with a valid signature
    handled: list[dict[str, Any]] = field(default_factory=list)  # each key's document, once
    forged: int = 0

    def keys(self) -> list[str]:
        return [document["id"] for document in self.handled]

    async def receive(self, request: web.Request) -> web.Response:
        body = await request.read()
        if not verify(self.secret, request.headers.get("X-Shop-Timestamp", ""), body,
                      request.headers.get("X-Shop-Signature", "")):
            self.forged += 1
            return web.json_response({"error": "bad signature"}, status=401)
        key = request.headers["Idempotency-Key"]
        self.attempts.append(key)
        if not self.up:
            return web.json_response({"error": "maintenance"}, status=503)
        document = json.loads(body)
        assert document["id"] == key
        if key not in self.keys():
            self.handled.append(document)
        if self.lose_answers > 0:
            self.lose_answers -= 1
            return web.json_response({"error": "crashed after saving"}, status=500)
        return web.json_response({"ok": True})

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/shop-webhook", self.receive)
        return app


async def storefront_cart(request: web.Request) -> web.Response:
    """What a Shopify-style cart permalink shows: the lines it was opened with (escaped)."""
    lines = [part.split(":") for part in request.match_info["items"].split(",") if part]
    rows = "".join(f'<li data-variant="{html.escape(v)}" data-qty="{html.escape(q)}">{html.escape(v)} x {html.escape(q)}</li>'
                   for v, q in lines)
    return web.Response(text=f"<!doctype html><title>Cart</title><ul id=cart>{rows}</ul>", content_type="text/html")


@contextmanager
def serve_in_thread(receiver: StoreReceiver) -> Iterator[str]:
    """Run the receiver (and a storefront cart page at ``/cart/{items}``) on a free port in its own
    thread and event loop, for tests whose servers outlive one event loop; yields its base URL."""
    app = receiver.app()
    app.router.add_get("/cart/{items}", storefront_cart)
    with serving(app) as url:
        yield url
