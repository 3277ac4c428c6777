"""Fold Rasa's events into analytics facts, the same way from a tracker and from the broker.

A Rasa event (the JSON of its tracker, or a message its event broker publishes) gives at
most one fact, keyed by sender, Rasa's timestamp, kind and a digest of the event's words,
so both feeds produce the same keys and reading an event twice adds nothing:

| Rasa event | fact |
|---|---|
| ``session_started``, ``restart`` | ``conversation_start`` (a new conversation begins) |
| ``user``, typed by the shopper | ``message`` (its intent; the words are not kept) |
| ``user``, an external intent (``EXTERNAL: cart_reminder``) | ``proactive`` (a reminder or alert we sent) |
| ``action`` ``action_default_fallback`` | ``fallback``, with the words the bot did not understand |
| ``action`` ``action_add_to_cart`` | ``add_to_cart`` |
| ``slot`` ``handoff_requested`` = true | ``handoff`` |
| ``slot`` ``last_results`` = ``[]`` | ``search_zero``, with the words searched |
| ``bot`` with a ``products`` payload | ``products_shown`` (ids; ``source`` search or recommend) |
| ``bot`` with a ``cart`` payload | ``cart_shown`` (ids of what is in the cart) |

The customer comes only from a verified token in the message metadata (``verify``), as
in the action server, checked as of when the message was sent (a reading an hour later
must not lose the customer because the token has expired since). The words of a fallback or a failed search come from the shopper's
latest message, which the folder remembers per conversation (:class:`Context`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from assistant.json_fields import object_at
from assistant.observe.csat import channel_name

PROACTIVE_INTENTS = frozenset({"cart_reminder", "alert_fired"})
EXTERNAL_PREFIX = "EXTERNAL: "
MAX_TEXT = 500
Verify = Callable[[str, float | None], "str | None"]  # (token, when it was sent) -> customer id


@dataclass(frozen=True)
class Fact:
    """One row of ``analytics_events`` before it is stored."""

    event_key: str
    sender_id: str
    customer_id: str | None
    channel: str
    kind: str
    at: datetime
    intent: str | None = None
    text: str | None = None
    source: str | None = None
    product_ids: list[str] | None = None


@dataclass
class Context:
    """What a conversation's earlier events said that later ones need: channel, customer, last words."""

    sender_id: str
    channel: str = "unknown"
    customer_id: str | None = None
    last_text: str | None = None
    last_intent: str | None = None


def event_key(sender_id: str, event: dict[str, Any], kind: str) -> str:
    """The idempotence key: sender, Rasa's timestamp, kind and a digest of the event's words."""
    words = {name: event.get(name) for name in ("event", "name", "text", "value")}
    digest = hashlib.sha256(json.dumps(words, sort_keys=True, default=str).encode("utf-8")).hexdigest()
    raw = f"{sender_id}\x1f{event.get('timestamp')!r}\x1f{kind}\x1f{digest}"
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def _at(event: dict[str, Any]) -> datetime:
    stamp = event.get("timestamp")
    return datetime.fromtimestamp(float(stamp), UTC) if isinstance(stamp, int | float) else datetime.now(UTC)


def _ids(items: Any, key: str) -> list[str]:
    if not isinstance(items, list):
        return []
    return [str(item[key]) for item in items if isinstance(item, dict) and item.get(key) is not None]


def _user(event: dict[str, Any], context: Context, verify: Verify) -> tuple[str, dict[str, Any]]:
    metadata = object_at(event, "metadata")
    channel = metadata.get("channel") or event.get("input_channel")
    if isinstance(channel, str) and channel:
        context.channel = channel_name(channel)
    token = metadata.get("customer_token")
    if isinstance(token, str) and token:
        stamp = event.get("timestamp")
        context.customer_id = verify(token, float(stamp) if isinstance(stamp, int | float) else None)
    intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
    text = str(event.get("text") or "")
    if metadata.get("is_external") or text.startswith(EXTERNAL_PREFIX) or intent in PROACTIVE_INTENTS:
        return "proactive", {"intent": intent}
    context.last_text, context.last_intent = text[:MAX_TEXT], intent
    return "message", {"intent": intent}


def _classify(event: dict[str, Any], context: Context, verify: Verify) -> tuple[str, dict[str, Any]] | None:
    kind = event.get("event")
    if kind in ("session_started", "restart"):
        return "conversation_start", {}
    if kind == "user":
        return _user(event, context, verify)
    if kind == "action" and event.get("name") == "action_default_fallback":
        return "fallback", {"intent": context.last_intent, "text": context.last_text}
    if kind == "action" and event.get("name") == "action_add_to_cart":
        return "add_to_cart", {}
    if kind == "slot" and event.get("name") == "handoff_requested" and event.get("value") is True:
        return "handoff", {}
    if kind == "slot" and event.get("name") == "last_results" and event.get("value") == []:
        return "search_zero", {"text": context.last_text}
    if kind == "bot":
        data = object_at(event, "data")
        custom = object_at(data, "custom")
        if custom.get("type") == "products":
            source = "recommend" if custom.get("source") == "recommend" else "search"
            return "products_shown", {"source": source, "product_ids": _ids(custom.get("products"), "id")}
        if custom.get("type") == "cart":
            return "cart_shown", {"product_ids": _ids(custom.get("items"), "product_id")}
    return None


def fold_event(event: dict[str, Any], context: Context, verify: Verify) -> Fact | None:
    """The fact one Rasa event gives (``None`` for most), updating the conversation's context."""
    if not isinstance(event, dict):
        return None
    found = _classify(event, context, verify)
    if found is None:
        return None
    kind, fields = found
    return Fact(
        event_key=event_key(context.sender_id, event, kind), sender_id=context.sender_id,
        customer_id=context.customer_id, channel=context.channel, kind=kind, at=_at(event), **fields,
    )


def fold_tracker(sender_id: str, events: list[Any], verify: Verify) -> list[Fact]:
    """Every fact of a whole tracker's events, in order."""
    context = Context(sender_id)
    facts = (fold_event(event, context, verify) for event in events)
    return [fact for fact in facts if fact is not None]
