"""Typed app keys of the live layer, used by chat and the agent console alike."""

from __future__ import annotations

from aiohttp import web

from assistant.web.live.handoffs import HandoffService
from assistant.web.live.hub import Hub

HUB = web.AppKey("hub", Hub)
HANDOFFS = web.AppKey("handoffs", HandoffService)
