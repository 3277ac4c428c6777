"""``POST /api/chat`` and ``GET /api/history``: the shopper's conversation, via Rasa.

While an agent holds the conversation the answer is ``{"messages": [], "held_by_agent":
true}``; ``GET /api/history?after=<id>`` returns only the messages after that id, so a
reconnecting widget catches up without duplicates.

Request: ``{"message": str, "customer_token"?: str}`` (or the token as
``Authorization: Bearer``).  Any ``sender`` the client sends is ignored; the sender id
comes from :mod:`assistant.web.sessions`.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from aiohttp import web

from assistant.web.console.keys import HANDOFFS, HUB
from assistant.web.keys import RASA, SETTINGS
from assistant.web.middlewares import ApiError
from assistant.web.rasa_client import RasaUnavailable, transcript
from assistant.web.sessions import NEW_SESSION, InvalidCustomerToken, Shopper, identify

log = logging.getLogger(__name__)

MAX_MESSAGE_CHARS = 2_000
UNREACHABLE = "Sorry, I can't reach the assistant right now. Please try again in a minute."
TRUNCATED_NOTE = (
    f"Your message was longer than {MAX_MESSAGE_CHARS:,} characters, "
    f"so I only read the first {MAX_MESSAGE_CHARS:,}."
)
NO_REPLY = (
    "Sorry, part of our system isn't answering right now, so I couldn't finish that. "
    "Please try again in a minute."
)
INVALID_TOKEN = "your store login is not valid or has expired; reload the page or log in again"


async def read_json_object(request: web.Request) -> dict[str, Any]:
    """The request body as a JSON object, or a 400 that says what was expected."""
    raw = await request.read()
    try:
        body = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ApiError(400, 'the body must be JSON like {"message": "hello"}') from None
    if not isinstance(body, dict):
        raise ApiError(400, 'the body must be a JSON object like {"message": "hello"}')
    return body


def shopper(request: web.Request, body_token: str | None = None) -> Shopper:
    """The verified identity of the request, or a 401 for a bad customer token."""
    settings = request.app[SETTINGS]
    try:
        return identify(request, settings.store_secret, settings.web_secret, body_token)
    except InvalidCustomerToken:
        raise ApiError(401, INVALID_TOKEN) from None


async def post_chat(request: web.Request) -> web.Response:
    """Forward one shopper message to Rasa; answer ``{"messages": [...]}``."""
    body = await read_json_object(request)
    message = body.get("message")
    if not isinstance(message, str):
        raise ApiError(400, 'the body needs a "message" string')
    message = message.strip()
    if not message:
        raise ApiError(400, "the message is empty; type something to ask the assistant")
    token = body.get("customer_token")
    who = shopper(request, token if isinstance(token, str) and token else None)
    truncated = len(message) > MAX_MESSAGE_CHARS
    message = message[:MAX_MESSAGE_CHARS]

    metadata: dict[str, Any] = {"channel": "web"}
    if who.customer_token is not None:
        metadata["customer_token"] = who.customer_token
    handoffs = request.app[HANDOFFS]
    handoff = await handoffs.open_handoff(who.sender)
    try:
        # While a person holds the conversation Rasa only records the message (the tracker
        # is paused) and the watcher relays it to the agent; the bot stays silent.
        replies = await request.app[RASA].send(who.sender, message, metadata)
        if handoff is not None and handoff.status == "active":
            request.app[HUB].wake.set()
            return web.json_response({"messages": replies, "held_by_agent": True})
        if handoff is not None and handoff.after_hours and handoff.left_message is None and not replies:
            return web.json_response({"messages": await handoffs.sync(handoff)})
    except RasaUnavailable as error:
        log.warning("chat for %s failed: %s", who.sender, error)
        raise ApiError(503, "assistant unavailable", messages=[{"text": UNREACHABLE}]) from None
    request.app[HUB].wake.set()  # a new handoff request, or turns an agent is watching
    if not replies:
        # Every turn of ours answers something; Rasa goes silent only when an action failed
        # (the action server is down, say): tell the shopper instead of showing nothing.
        log.warning("Rasa sent no reply to %s", who.sender)
        replies = [{"text": NO_REPLY}]
    if truncated:
        return web.json_response({"messages": [{"text": TRUNCATED_NOTE}, *replies], "truncated": True})
    return web.json_response({"messages": replies})


async def get_history(request: web.Request) -> web.Response:
    """This shopper's conversation so far, so a reloaded page can show it again."""
    who = shopper(request)
    if request[NEW_SESSION] and who.customer_id is None:
        # A visitor we have never seen has no conversation; don't make Rasa create one.
        return web.json_response({"history": []})
    after = request.query.get("after", "-1")
    if not after.lstrip("-").isdigit():
        raise ApiError(400, "after must be a message id from an earlier answer")
    try:
        tracker = await request.app[RASA].tracker(who.sender)
    except RasaUnavailable as error:
        log.warning("history for %s failed: %s", who.sender, error)
        raise ApiError(503, "assistant unavailable", messages=[{"text": UNREACHABLE}]) from None
    return web.json_response({"history": transcript(tracker, after=int(after))})
