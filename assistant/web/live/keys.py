"""Typed app keys of the live layer, used by chat and the agent console alike."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from assistant.web.live.broker import EventConsumer
from assistant.web.live.handoffs import HandoffService
from assistant.web.live.hub import Hub
from assistant.web.live.relay import RedisRelay


@dataclass
class LiveLinks:
    """This replica's links to the other replicas and to Rasa's events (``None`` in the demo profile)."""

    relay: RedisRelay | None = None
    consumer: EventConsumer | None = None


HUB = web.AppKey("hub", Hub)
HANDOFFS = web.AppKey("handoffs", HandoffService)
LIVE_LINKS = web.AppKey("live_links", LiveLinks)
