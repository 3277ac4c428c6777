"""The webhook the Meta platforms share (WhatsApp Cloud API, Messenger, Instagram).

All three answer Meta's subscription handshake (``hub.challenge`` against the verify token),
sign every POST with the app secret (``X-Hub-Signature-256``), and deliver batches of
messages that each carry an id and a timestamp. The checks live here once, so a fix to the
signature or replay handling reaches every Meta channel; each channel only says how to read
its messages out of a body and what to do with one.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from rasa_addons.webhook_security import (
    MAX_MESSAGE_AGE_SECONDS,
    META_SIGNATURE_HEADER,
    SeenIds,
    meta_signed,
    verify_token_matches,
)

# (platform user id, platform message id, text for Rasa, unix time the platform stamped)
Incoming = tuple[str, str, str, float]


def meta_webhook(
    blueprint_name: str,
    platform: str,
    verify_token: str,
    app_secret: str,
    seen: SeenIds,
    read: Callable[[dict[str, Any]], list[Incoming]],
    deliver: Callable[[Request, Incoming], Awaitable[None]],
) -> Blueprint:
    """Routes: a health check, the handshake, and a POST that is verified before it is read.

    A POST whose signature is missing or wrong, or whose messages were all seen before or are
    older than Meta ever retries, gets 403 and reaches nobody; each new message is delivered once.
    """
    hook = Blueprint(blueprint_name, __name__)

    @hook.route("/", methods=["GET"])
    async def health(_: Request) -> HTTPResponse:
        return response.json({"status": "ok"})

    @hook.route("/webhook", methods=["GET"])
    async def handshake(request: Request) -> HTTPResponse:
        if request.args.get("hub.mode") == "subscribe" and verify_token_matches(
            verify_token, request.args.get("hub.verify_token")
        ):
            return response.text(request.args.get("hub.challenge") or "")
        return response.json({"error": "wrong verify token"}, status=403)

    @hook.route("/webhook", methods=["POST"])
    async def webhook(request: Request) -> HTTPResponse:
        if not meta_signed(app_secret, request.body, request.headers.get(META_SIGNATURE_HEADER)):
            return response.json({"error": "missing or wrong signature"}, status=403)
        body = request.json
        if not isinstance(body, dict) or not isinstance(body.get("entry"), list):
            return response.json({"error": f"not a {platform} webhook"}, status=400)
        messages = read(body)
        if messages and all(seen.seen(mid) or _too_old(stamp) for _, mid, _, stamp in messages):
            return response.json({"error": "message already received or too old"}, status=403)
        for message in messages:
            if seen.take(message[1]) and not _too_old(message[3]):
                await deliver(request, message)
        return response.text("success")

    return hook


def _too_old(stamp: float) -> bool:
    return time.time() - stamp > MAX_MESSAGE_AGE_SECONDS
