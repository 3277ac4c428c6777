"""A client's message id on ``POST /api/chat``: a retried message is stored and answered once.

A shopper whose message meets a part that is down gets an honest 503 and the client sends
the same message again. If the first attempt did reach Rasa (the web replica or the
balancer lost the answer on its way back), sending it again would put the message in the
conversation twice and run its actions twice. So a client may name each message
(``"message_id"``, up to 64 letters, digits, ``.``, ``_``, ``:`` or ``-``): the gateway
records it in the user event's metadata (``client_message_id``), and before sending
looks in the conversation's tracker for it. Found, the turn is not sent again: the
client gets the bot's replies that followed it, marked ``"repeated": true``.

The tracker is the one place the id is stored, so this holds across web replicas and
restarts with no table of its own. Rasa saves a turn when it has finished it, so a retry
sent while the first attempt is still being processed by Rasa is not recognised; a client
retries only after an answer (an error is one), and a web replica that is stopped finishes
its requests first, so that happens only when a replica dies without its graceful stop.
"""

from __future__ import annotations

import re
from typing import Any

from assistant.web.middlewares import ApiError
from assistant.web.rasa_client import MESSAGE_FIELDS, last_restart

METADATA_KEY = "client_message_id"
_MESSAGE_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")


def client_message_id(body: dict[str, Any]) -> str | None:
    """The body's ``message_id`` (None when absent), or a 400 for one that is not an id."""
    message_id = body.get("message_id")
    if message_id is None:
        return None
    if not isinstance(message_id, str) or not _MESSAGE_ID.fullmatch(message_id):
        raise ApiError(400, '"message_id" must be 1 to 64 letters, digits, ".", "_", ":" or "-"')
    return message_id


def _reply(event: dict[str, Any]) -> dict[str, Any]:
    """A stored bot event as ``RasaClient.send`` returns a reply."""
    data = event.get("data") if isinstance(event.get("data"), dict) else {}
    fields = {"text": event.get("text"), **{key: data.get(key) for key in MESSAGE_FIELDS if key != "text"}}
    return {key: value for key, value in fields.items() if value is not None and value != []}


def _by_bot(event: Any) -> bool:
    """A bot event the bot wrote (not an agent's or the console's, which carry ``from``)."""
    metadata = event.get("metadata") if isinstance(event.get("metadata"), dict) else {}
    return event.get("event") == "bot" and metadata.get("from") not in ("agent", "system")


def earlier_turn(tracker: dict[str, Any], message_id: str) -> list[dict[str, Any]] | None:
    """The bot's replies to the user message stored with ``message_id`` since the last restart
    (``[]`` when the bot said nothing), or None when no such message is stored."""
    events = tracker.get("events") or []
    found: list[dict[str, Any]] | None = None
    for event in events[last_restart(events) + 1:]:
        if not isinstance(event, dict):
            continue
        if event.get("event") == "user":
            if found is not None:
                break  # the next message of the shopper ends that turn
            metadata = event.get("metadata") if isinstance(event.get("metadata"), dict) else {}
            if metadata.get(METADATA_KEY) == message_id:
                found = []
        elif found is not None and _by_bot(event):
            found.append(_reply(event))
    return found
