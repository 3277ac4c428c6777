"""Async client for the two Rasa doors the gateway uses: its gateway channel and HTTP API.

Everything that can go wrong on the way to Rasa (refused connection, time-out, an error
status, a body that is not the expected JSON) becomes :class:`RasaUnavailable`, so the
views have one thing to turn into an honest 503.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any

import aiohttp
from yarl import URL

from assistant.json_fields import object_at

MESSAGE_FIELDS = ("text", "buttons", "custom", "image")


class RasaUnavailable(Exception):
    """Rasa could not be reached, timed out, or answered with something unusable."""


@dataclass(frozen=True)
class RasaClient:
    """Talks to one Rasa server on behalf of the gateway."""

    session: aiohttp.ClientSession
    base_url: str
    gateway_token: str
    api_token: str
    timeout: float = 30.0

    def _url(self, *segments: str) -> URL:
        url = URL(self.base_url)
        for segment in segments:
            url = url / segment
        return url

    async def _json(self, method: str, url: URL, what: str, **kwargs: Any) -> Any:
        """The JSON answer of one call; errors name the call by ``what``, never by its URL
        (which holds the sender id, and error messages end up in logs)."""
        try:
            async with self.session.request(
                method, url, timeout=aiohttp.ClientTimeout(total=self.timeout), **kwargs
            ) as response:
                if response.status != 200:
                    raise RasaUnavailable(f"{what}: Rasa answered {response.status}")
                return await response.json(content_type=None)
        except (aiohttp.ClientError, asyncio.TimeoutError, json.JSONDecodeError) as error:
            raise RasaUnavailable(f"{what}: {type(error).__name__}") from error

    async def send(
        self, sender: str, message: str, metadata: dict[str, Any], is_payload: bool = False
    ) -> list[dict[str, Any]]:
        """Post one user message to the gateway channel; return the bot's messages.

        ``is_payload`` says the gateway checked that ``message`` is a button payload the
        bot offered; without it the channel reads a leading ``/`` as text, not an intent.
        Only the fields a client renders are kept (``recipient_id`` is the sender id,
        which the browser has no use for).
        """
        replies = await self._json(
            "POST",
            self._url("webhooks", "gateway", "webhook"),
            "send a message",
            json={"sender": sender, "message": message, "metadata": metadata, "payload": is_payload},
            headers={"Authorization": f"Bearer {self.gateway_token}"},
        )
        if not isinstance(replies, list):
            raise RasaUnavailable("the gateway channel did not answer with a list")
        return [
            {key: reply[key] for key in MESSAGE_FIELDS if reply.get(key) is not None}
            for reply in replies
            if isinstance(reply, dict)
        ]

    async def tracker(self, sender: str) -> dict[str, Any]:
        """The conversation tracker of ``sender`` from Rasa's HTTP API, with every event
        (message ids are event positions, so they must not shift after a restart)."""
        tracker = await self._json(
            "GET",
            self._url("conversations", sender, "tracker"),
            "read the tracker",
            params={"token": self.api_token, "include_events": "ALL"},
        )
        if not isinstance(tracker, dict):
            raise RasaUnavailable("the tracker is not a JSON object")
        return tracker

    async def append_events(
        self, sender: str, events: list[dict[str, Any]], output_channel: str | None = None
    ) -> dict[str, Any]:
        """Append events to the tracker; with ``output_channel`` the bot messages among them
        are also delivered on that channel (Rasa's ``execute_side_effects``).

        This is how a person speaks through Rasa: it works while the conversation is
        paused, and the messages land in the transcript like the bot's own.
        """
        params = {"token": self.api_token, "include_events": "ALL"}
        if output_channel is not None:
            params |= {"output_channel": output_channel, "execute_side_effects": "true"}
        tracker = await self._json(
            "POST", self._url("conversations", sender, "tracker", "events"), "append events", params=params, json=events
        )
        if not isinstance(tracker, dict):
            raise RasaUnavailable("the tracker is not a JSON object")
        return tracker

    async def replace_events(self, sender: str, events: list[dict[str, Any]]) -> dict[str, Any]:
        """Replace the whole conversation with ``events`` (``[]`` forgets it), Rasa's
        ``PUT /conversations/{id}/tracker/events``; returns the tracker Rasa now holds."""
        tracker = await self._json(
            "PUT", self._url("conversations", sender, "tracker", "events"), "replace events",
            params={"token": self.api_token, "include_events": "ALL"}, json=events,
        )
        if not isinstance(tracker, dict):
            raise RasaUnavailable("the tracker is not a JSON object")
        return tracker

    async def is_up(self) -> bool:
        """Whether Rasa's root endpoint answers 200 within two seconds."""
        try:
            async with self.session.get(self._url(), timeout=aiohttp.ClientTimeout(total=2)) as response:
                return response.status == 200
        except (aiohttp.ClientError, asyncio.TimeoutError):
            return False


def message_from_event(index: int, event: dict[str, Any]) -> dict[str, Any] | None:
    """The contract's Message for one tracker event, or ``None`` for what shoppers don't see.

    Bot events whose metadata says ``{"from": "agent"|"system"}`` were written by the agent
    console; every other bot event is the bot's. The id is the event's position.
    """
    kind = event.get("event")
    if kind not in ("user", "bot"):
        return None
    data = object_at(event, "data")
    metadata = object_at(event, "metadata")
    custom = data.get("custom") if kind == "bot" else None
    if event.get("text") is None and custom is None:
        return None
    author = "user" if kind == "user" else metadata.get("from") if metadata.get("from") in ("agent", "system") else "bot"
    message: dict[str, Any] = {
        "id": str(index),
        "from": author,
        "text": event.get("text"),
        "buttons": data.get("buttons") or [] if kind == "bot" else [],
        "custom": custom,
        "timestamp": event.get("timestamp"),
    }
    if author == "agent":
        message["agent_name"] = str(metadata.get("agent_name") or "Support")
    return message


def last_restart(events: list[Any]) -> int:
    """Index of the conversation's last ``restart`` event (-1 when there is none)."""
    return max((i for i, event in enumerate(events) if isinstance(event, dict) and event.get("event") == "restart"),
               default=-1)


def transcript(tracker: dict[str, Any], after: int = -1) -> list[dict[str, Any]]:
    """The shopper-visible turns of a tracker (contract Messages), those after id ``after``.

    Nothing before the last restart is ever shown: a restart is the shopper's "start over"
    or the end of "delete my data", and what came before it is not theirs to see again
    (nor an agent's). Ids stay event positions, so they do not shift.
    """
    events = tracker.get("events") or []
    after = max(after, last_restart(events))
    turns: list[dict[str, Any]] = []
    for index, event in enumerate(events):
        if index > after and isinstance(event, dict):
            message = message_from_event(index, event)
            if message is not None:
                turns.append(message)
    return turns
