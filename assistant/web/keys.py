"""Typed keys for the state the app shares between requests."""

from __future__ import annotations

from aiohttp import web

from assistant.settings import Settings
from assistant.store.db import Store
from assistant.web.rasa_client import RasaClient
from assistant.web.rate_limit import RateLimiter
from assistant.web.search_client import SearchClient

SETTINGS = web.AppKey("settings", Settings)
DEMO_MODE = web.AppKey("demo_mode", bool)
RASA_TIMEOUT = web.AppKey("rasa_timeout", float)
RASA = web.AppKey("rasa", RasaClient)
SEARCH = web.AppKey("search", SearchClient)  # the action server's catalog search
STORE = web.AppKey("store", Store)  # the customer store, one engine per app
RATE_LIMITER = web.AppKey("rate_limiter", RateLimiter)
