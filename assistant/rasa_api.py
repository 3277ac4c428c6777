"""Blocking calls to Rasa's HTTP API for jobs outside a chat turn (reminders, erasure).

The web gateway has its own async client (:mod:`assistant.web.rasa_client`); these two
calls are made by the nudge job and the privacy action, which run in worker threads or a
cron job, so plain ``urllib`` keeps them free of an event loop. Every call carries the
Rasa API token from the settings.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from assistant.settings import Settings

TIMEOUT_SECONDS = 30


class RasaApiError(Exception):
    """Rasa refused, failed or could not be reached; the message says which."""


def _call(settings: Settings, method: str, path: str, body: Any, **params: str) -> Any:
    query = urllib.parse.urlencode({**params, "token": settings.rasa_token})
    url = f"{settings.rasa_url.rstrip('/')}{path}?{query}"
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), method=method, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
            return json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        raise RasaApiError(f"{method} {path} answered {error.code}") from error
    except (urllib.error.URLError, OSError, json.JSONDecodeError) as error:
        raise RasaApiError(f"{method} {path}: {error}") from error


def trigger_intent(settings: Settings, sender_id: str, intent: str, output_channel: str) -> list[dict[str, Any]]:
    """Inject an external intent into ``sender_id``'s conversation; the bot's replies go to
    ``output_channel`` (and are returned when that channel collects rather than pushes)."""
    path = f"/conversations/{urllib.parse.quote(sender_id, safe='')}/trigger_intent"
    answer = _call(settings, "POST", path, {"name": intent, "entities": {}}, output_channel=output_channel)
    return list((answer or {}).get("messages") or [])


def erase_conversation(settings: Settings, sender_id: str) -> None:
    """Replace the conversation's events with nothing (what Rasa's API offers to forget one);
    with the production profile's SQL tracker store, which that replace leaves untouched,
    delete the conversation's rows too (:mod:`assistant.tracker_retention`)."""
    _call(settings, "PUT", f"/conversations/{urllib.parse.quote(sender_id, safe='')}/tracker/events", [])
    if settings.profile == "production":
        from assistant.tracker_retention import delete_conversations

        delete_conversations(settings.tracker_database_url, [sender_id])


def tracker_events(settings: Settings, sender_id: str) -> list[Any]:
    """Every event of ``sender_id``'s conversation (the analytics feed of the demo profile reads these)."""
    path = f"/conversations/{urllib.parse.quote(sender_id, safe='')}/tracker"
    answer = _call(settings, "GET", path, None, include_events="ALL")
    events = answer.get("events") if isinstance(answer, dict) else None
    if not isinstance(events, list):
        raise RasaApiError(f"GET {path}: the tracker has no event list")
    return events
