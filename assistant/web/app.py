"""The aiohttp application factory and its runner.

State lives under typed keys (:mod:`assistant.web.keys`); the HTTP client session to
Rasa and to the action server's catalog search are opened and closed by ``cleanup_ctx`` so tests can build
as many apps as they like, each with its own settings.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from aiohttp.web_request import BaseRequest
from aiohttp.web_response import StreamResponse

from assistant.observe.logs import configure_logging
from assistant.settings import Settings
from assistant.store.db import open_store
from assistant.web.cors import cors_middleware
from assistant.web.keys import DEMO_MODE, RASA, RASA_TIMEOUT, RATE_LIMITER, SEARCH, SETTINGS, STORE
from assistant.web.middlewares import MAX_BODY_BYTES, add_security_headers, error_middleware, guard_middleware, route_of
from assistant.web.proxies import as_seen_by_client, trusted_proxy_middleware
from assistant.web.rasa_client import RasaClient
from assistant.web.rate_limit import RateLimiter, make_store, rate_limit_middleware
from assistant.web.request_ids import request_id_middleware
from assistant.web.routes import setup_routes
from assistant.web.search_client import SearchClient
from assistant.web.sessions import session_middleware


async def rasa_client_ctx(app: web.Application) -> AsyncIterator[None]:
    """One pooled client session to Rasa for the app's lifetime."""
    settings = app[SETTINGS]
    async with aiohttp.ClientSession() as session:
        app[RASA] = RasaClient(
            session, settings.rasa_url, settings.gateway_token, settings.rasa_token, app[RASA_TIMEOUT]
        )
        yield


async def store_ctx(app: web.Application) -> AsyncIterator[None]:
    """One customer-store engine (and its connection pool) shared by every view, disposed with the app."""
    with open_store(app[SETTINGS].database_url) as store:
        app[STORE] = store
        yield


async def search_ctx(app: web.Application) -> AsyncIterator[None]:
    """One pooled client session to the action server, whose catalog index serves ``/api/search`` (#15.7)."""
    settings = app[SETTINGS]
    async with aiohttp.ClientSession() as session:
        app[SEARCH] = SearchClient(session, settings.action_endpoint_url, settings.action_server_token)
        yield


async def rate_store_ctx(app: web.Application) -> AsyncIterator[None]:
    """Close the rate-limit store's connections (Redis) with the app."""
    yield
    await app[RATE_LIMITER].store.close()


def create_app(settings: Settings, demo_mode: bool = False, rasa_timeout: float = 30.0) -> web.Application:
    """The web gateway for one store; ``demo_mode`` enables the demo login on ``/``."""
    limiter = RateLimiter(make_store(settings.redis_url), exempt_addresses=frozenset(settings.rate_limit_exempt))
    app = web.Application(
        client_max_size=MAX_BODY_BYTES,
        # Trusted proxies' X-Forwarded-* first, so everything after sees the shopper's scheme,
        # host and address; then the Host check (and last-resort error answer); then CORS, so it
        # answers preflights and sees the session cookie to mark it; the session middleware comes
        # next so error responses still carry a new cookie; rate limits need the session.
        middlewares=[
            request_id_middleware,  # first, so every log line of the request carries its id
            trusted_proxy_middleware(settings.trusted_proxies),
            guard_middleware(settings.allowed_hosts),
            cors_middleware(settings.allowed_origins),
            session_middleware(settings.web_secret),
            rate_limit_middleware(limiter),
            error_middleware,
        ],
    )
    app[SETTINGS] = settings
    app[RATE_LIMITER] = limiter
    app.cleanup_ctx.append(rate_store_ctx)
    app[DEMO_MODE] = demo_mode
    app[RASA_TIMEOUT] = rasa_timeout
    app.cleanup_ctx.append(rasa_client_ctx)
    app.cleanup_ctx.append(store_ctx)
    app.cleanup_ctx.append(search_ctx)
    app.on_response_prepare.append(add_security_headers)
    setup_routes(app)
    return app


class RouteAccessLogger(AbstractAccessLogger):
    """Access log lines with the route pattern instead of the path and no query string:
    export links in paths and ``?after=`` values name no one in the logs."""

    def log(self, request: BaseRequest, response: StreamResponse, time: float) -> None:
        route = route_of(request) if isinstance(request, web.Request) else "(no route)"
        client = as_seen_by_client(request).remote if isinstance(request, web.Request) else request.remote
        self.logger.info("%s %s %s %s %.3fs", client, request.method, route, response.status, time)


def run_web(settings: Settings, port: int | None = None, demo_mode: bool = False) -> None:
    """Serve the app until interrupted (``shop-assistant web``); ``--demo`` on loopback only."""
    from sqlalchemy.exc import SQLAlchemyError

    from assistant.launcher import StackError, require_loopback_for_demo
    from assistant.store.db import SchemaBehind, require_current_schema

    try:
        require_loopback_for_demo(settings.web_host, demo_mode)
        if settings.profile == "production":
            require_current_schema(settings.database_url)
    except (StackError, SchemaBehind) as error:
        raise SystemExit(f"error: {error}") from None
    except SQLAlchemyError as error:
        raise SystemExit(f"error: the customer store is unreachable, so its schema cannot be checked: {error}") from None
    configure_logging(settings.log_format)
    web.run_app(
        create_app(settings, demo_mode=demo_mode),
        access_log_class=RouteAccessLogger,
        host=settings.web_host,
        port=port or settings.web_port,
        print=lambda text: print(text, flush=True),
    )
