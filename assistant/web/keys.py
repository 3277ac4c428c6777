"""Typed keys for the state the app shares between requests."""

from __future__ import annotations

from aiohttp import web

from assistant.settings import Settings
from assistant.store.db import Store
from assistant.web.catalog_search import CatalogSearch
from assistant.web.rasa_client import RasaClient
from assistant.web.rate_limit import RateLimiter

SETTINGS = web.AppKey("settings", Settings)
DEMO_MODE = web.AppKey("demo_mode", bool)
RASA_TIMEOUT = web.AppKey("rasa_timeout", float)
RASA = web.AppKey("rasa", RasaClient)
CATALOG = web.AppKey("catalog", CatalogSearch)
STORE = web.AppKey("store", Store)  # the customer store, one engine per app
RATE_LIMITER = web.AppKey("rate_limiter", RateLimiter)
