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

    async def _json(self, method: str, url: URL, **kwargs: Any) -> Any:
        try:
            async with self.session.request(
                method, url, timeout=aiohttp.ClientTimeout(total=self.timeout), **kwargs
            ) as response:
                if response.status != 200:
                    raise RasaUnavailable(f"{method} {url.path} answered {response.status}")
                return await response.json(content_type=None)
        except (aiohttp.ClientError, asyncio.TimeoutError, json.JSONDecodeError) as error:
            raise RasaUnavailable(f"{method} {url.path}: {error!r}") from error

    async def send(self, sender: str, message: str, metadata: dict[str, Any]) -> list[dict[str, Any]]:
        """Post one user message to the gateway channel; return the bot's messages.

        Only the fields a client renders are kept (``recipient_id`` is the sender id,
        which the browser has no use for).
        """
        replies = await self._json(
            "POST",
            self._url("webhooks", "gateway", "webhook"),
            json={"sender": sender, "message": message, "metadata": metadata},
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
        """The conversation tracker of ``sender`` from Rasa's HTTP API."""
        tracker = await self._json(
            "GET", self._url("conversations", sender, "tracker"), params={"token": self.api_token}
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


def transcript(tracker: dict[str, Any]) -> list[dict[str, Any]]:
    """The shopper-visible turns of a tracker: ``{from, text, custom, timestamp}`` each."""
    turns: list[dict[str, Any]] = []
    for event in tracker.get("events") or []:
        if not isinstance(event, dict) or event.get("event") not in ("user", "bot"):
            continue
        data = event.get("data") if isinstance(event.get("data"), dict) else {}
        custom = data.get("custom") if event["event"] == "bot" else None
        if event.get("text") is None and custom is None:
            continue
        turns.append(
            {
                "from": event["event"],
                "text": event.get("text"),
                "custom": custom,
                "timestamp": event.get("timestamp"),
            }
        )
    return turns
