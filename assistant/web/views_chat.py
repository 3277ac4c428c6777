"""``POST /api/chat`` and ``GET /api/history``: the shopper's conversation, via Rasa.

While an agent holds the conversation the answer is ``{"messages": [], "held_by_agent":
true}``; ``GET /api/history?after=<id>`` returns only the messages after that id, so a
reconnecting widget catches up without duplicates.

Request: ``{"message": str, "customer_token"?: str, "message_id"?: str}`` for what the
shopper typed, or ``{"payload": str, ...}`` for a button the bot offered (the token may also
come as ``Authorization: Bearer``). A retry with the same ``message_id`` is answered from
the conversation, not handled again (:mod:`assistant.web.chat_repeats`). Typed text is
always read as text, even when it starts with ``/`` (Rasa would read ``/restart`` or ``/order_status{...}`` as an intent with entities):
only a payload the bot offered in this conversation reaches Rasa as one. Any ``sender``
the client sends is ignored; the sender id comes from :mod:`assistant.web.sessions`.

"Delete my data" ends with a ``{"type": "conversation_erased"}`` message from the action;
the gateway then replaces the conversation's events in Rasa with nothing and checks that
nothing of the shopper's is left, so a reload shows an empty conversation.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiohttp import web
from sqlalchemy.exc import SQLAlchemyError

from assistant.json_fields import object_at
from assistant.observe.logs import REQUEST_ID
from assistant.observe.metrics import CHAT_MESSAGES, CHAT_REPLY_SECONDS
from assistant.tracker_retention import delete_conversations
from assistant.web.analytics_task import note_conversation
from assistant.web.chat_repeats import METADATA_KEY, client_message_id
from assistant.web.keys import RASA, RATE_LIMITER, SETTINGS
from assistant.web.live.keys import HANDOFFS, HUB
from assistant.web.middlewares import ApiError
from assistant.web.parsing import message_id_param, read_json_object
from assistant.web.rasa_client import RasaClient, RasaUnavailable, last_restart, transcript
from assistant.web.rate_limit import HANDOFF_REQUESTS, HANDOFF_WINDOW_SECONDS, RateLimited, client_address
from assistant.web.sessions import NEW_SESSION, InvalidCustomerToken, ShopperSession, identify, log_id

log = logging.getLogger(__name__)

MAX_MESSAGE_CHARS = 2_000
MAX_PAYLOAD_CHARS = 500
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
STALE_OPTION = "that option is not on offer in this conversation any more; type what you want instead"
TOO_MANY_HANDOFFS = (
    "Our team already has several requests from your network waiting, so I couldn't add this one. "
    "Please try again later; meanwhile I'm happy to keep helping here."
)
ERASED = "conversation_erased"
CARD_INTENTS = ("add_to_cart", "recommend")  # the widget's product-card buttons (ordinal payloads)

def shopper(request: web.Request, body_token: str | None = None) -> ShopperSession:
    """The verified identity of the request, or a 401 for a bad customer token."""
    settings = request.app[SETTINGS]
    try:
        return identify(request, settings.store_secret, settings.web_secret, body_token, settings.token_max_ttl)
    except InvalidCustomerToken:
        raise ApiError(401, INVALID_TOKEN) from None

def offered_payloads(tracker: dict[str, Any]) -> set[str]:
    """The intent payloads the bot offered since the last restart: its buttons, and the
    card buttons (``/add_to_cart{"ordinal":"2"}``) of its latest product list."""
    events = tracker.get("events") or []
    payloads: set[str] = set()
    listed = 0
    for event in events[last_restart(events) + 1:]:
        if not isinstance(event, dict) or event.get("event") != "bot":
            continue
        data = object_at(event, "data")
        for button in data.get("buttons") or []:
            if isinstance(button, dict) and isinstance(button.get("payload"), str):
                payloads.add(button["payload"])
        custom = data.get("custom")
        if isinstance(custom, dict) and custom.get("type") == "products" and isinstance(custom.get("products"), list):
            listed = len(custom["products"])
    for intent in CARD_INTENTS:
        payloads.update(f'/{intent}{{"ordinal":"{n}"}}' for n in range(1, listed + 1))
    return payloads

def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


async def _what_to_send(request: web.Request, body: dict[str, Any], who: ShopperSession) -> tuple[str, bool, bool]:
    """``(text, is_payload, truncated)`` from a body with either ``message`` or ``payload``."""
    message, payload = body.get("message"), body.get("payload")
    if (message is None) == (payload is None):
        raise ApiError(400, 'the body needs either a "message" string (typed text) or a "payload" (a button)')
    if payload is not None:
        if not isinstance(payload, str) or not payload.strip() or len(payload) > MAX_PAYLOAD_CHARS:
            raise ApiError(400, f'"payload" must be a button payload of at most {MAX_PAYLOAD_CHARS} characters')
        payload = payload.strip()
        if not _encodable(payload):
            raise ApiError(400, '"payload" is not valid text')
        if not payload.startswith("/"):
            return payload, False, False  # a button that says words: read as text like typing
        if request[NEW_SESSION] and who.customer_id is None:
            raise ApiError(400, STALE_OPTION)
        if payload not in offered_payloads(await request.app[RASA].tracker(who.sender)):
            raise ApiError(400, STALE_OPTION)
        return payload, True, False
    if not isinstance(message, str):
        raise ApiError(400, 'the body needs a "message" string')
    message = message.strip()
    if not message:
        raise ApiError(400, "the message is empty; type something to ask the assistant")
    if not message.isprintable() and not _encodable(message):
        raise ApiError(400, "the message is not valid text (it holds a lone UTF-16 surrogate)")
    return message[:MAX_MESSAGE_CHARS], False, len(message) > MAX_MESSAGE_CHARS

async def _cap_new_handoff(request: web.Request, who: ShopperSession) -> list[dict[str, Any]]:
    """If this turn opened a request for a person and the client's address is over
    :data:`HANDOFF_REQUESTS`, withdraw it at once and say why (returns that notice)."""
    handoffs = request.app[HANDOFFS]
    created = await handoffs.open_handoff(who.sender)
    if created is None:
        return []
    limiter = request.app[RATE_LIMITER].over_window(HANDOFF_WINDOW_SECONDS)
    try:
        await limiter.check(HANDOFF_REQUESTS, who.sender, client_address(request))
    except RateLimited:
        log.warning("handoff request %s withdrawn: too many from one address", created.id)
        return await handoffs.withdraw(created, TOO_MANY_HANDOFFS)
    return []


async def forget_conversation(rasa: RasaClient, sender: str) -> None:
    """Replace the conversation's events with nothing, then check Rasa holds none of the
    shopper's words or the bot's answers any more (``RasaUnavailable`` if it still does)."""
    tracker = await rasa.replace_events(sender, [])
    left = [event for event in tracker.get("events") or [] if isinstance(event, dict) and event.get("event") in ("user", "bot")]
    if left:
        raise RasaUnavailable(f"{len(left)} conversation events survived the replace")

async def post_chat(request: web.Request) -> web.Response:
    """Forward one shopper message to Rasa; answer ``{"messages": [...]}``."""
    body = await read_json_object(request)
    token = body.get("customer_token")
    who = shopper(request, token if isinstance(token, str) and token else None)
    message_id = client_message_id(body)
    settings = request.app[SETTINGS]
    metadata: dict[str, Any] = {"channel": "web", "request_id": REQUEST_ID.get()}  # its log lines across the stack
    if who.customer_token is not None:
        metadata["customer_token"] = who.customer_token
    if message_id is not None:
        metadata[METADATA_KEY] = message_id
    handoffs, rasa = request.app[HANDOFFS], request.app[RASA]
    try:
        text, is_payload, truncated = await _what_to_send(request, body, who)
        handoff = await handoffs.open_handoff(who.sender)
        # While a person holds the conversation Rasa only records the message (the tracker
        # is paused) and the watcher relays it to the agent; the bot stays silent.
        CHAT_MESSAGES.labels(channel="web").inc()
        with CHAT_REPLY_SECONDS.time():
            replies = await rasa.send(who.sender, text, metadata, is_payload)
        await note_conversation(request.app, who.sender)
        if any(isinstance(reply.get("custom"), dict) and reply["custom"].get("type") == ERASED for reply in replies):
            try:
                await forget_conversation(rasa, who.sender)
                if settings.profile == "production":  # the SQL tracker store keeps rows a replace cannot remove
                    await asyncio.to_thread(delete_conversations, settings.tracker_database_url, [who.sender])
            except (RasaUnavailable, SQLAlchemyError) as error:  # the store is erased; transcripts stop at the restart
                log.error("erased conversation %s still in Rasa: %s", log_id(who.sender, settings.web_secret), error)
        if handoff is not None and handoff.status == "active":
            request.app[HUB].wake.set()
            return web.json_response({"messages": replies, "held_by_agent": True})
        if handoff is None:
            replies += await _cap_new_handoff(request, who)
        if handoff is not None and handoff.after_hours and handoff.left_message is None and not replies:
            return web.json_response({"messages": await handoffs.sync(handoff)})
    except RasaUnavailable as error:
        log.warning("chat for %s failed: %s", log_id(who.sender, settings.web_secret), error)
        raise ApiError(503, "assistant unavailable", messages=[{"text": UNREACHABLE}]) from None
    request.app[HUB].wake.set()  # a new handoff request, or turns an agent is watching
    if not replies:
        # Every turn of ours answers something; Rasa goes silent only when an action failed
        # (the action server is down, say): tell the shopper instead of showing nothing.
        log.warning("Rasa sent no reply to %s", log_id(who.sender, settings.web_secret))
        replies = [{"text": NO_REPLY}]
    if truncated:
        return web.json_response({"messages": [{"text": TRUNCATED_NOTE}, *replies], "truncated": True})
    return web.json_response({"messages": replies})

async def get_history(request: web.Request) -> web.Response:
    """This shopper's conversation so far (since its last restart), so a reloaded page can show it again."""
    who = shopper(request)
    after = message_id_param(request)
    if request[NEW_SESSION] and who.customer_id is None:
        # A visitor we have never seen has no conversation; don't make Rasa create one.
        return web.json_response({"history": []})
    try:
        tracker = await request.app[RASA].tracker(who.sender)
    except RasaUnavailable as error:
        log.warning("history for %s failed: %s", log_id(who.sender, request.app[SETTINGS].web_secret), error)
        raise ApiError(503, "assistant unavailable", messages=[{"text": UNREACHABLE}]) from None
    return web.json_response({"history": transcript(tracker, after=after)})
