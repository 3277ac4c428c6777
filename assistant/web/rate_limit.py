"""Rate limits for the shopper-facing routes: per session and per client address.

Fixed one-minute windows counted in a :class:`RateStore`: in this process's memory in the
demo profile, in Redis when ``SHOP_REDIS_URL`` is set (production: every web replica sees
the same counts). A request over a limit gets 429 with ``Retry-After`` (seconds to the end
of the window); the counter of a refused request still counts, so a flood stays refused.

The per-address limits are several times the per-session ones: a shop's customers may
share one address (an office, a mobile carrier's NAT), while a client that drops its
cookie to get a fresh session each time still meets the address limit.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from aiohttp import web
from redis.exceptions import RedisError

from assistant.web.middlewares import error_response
from assistant.web.sessions import SESSION_ID

log = logging.getLogger(__name__)
WINDOW_SECONDS = 60


@dataclass(frozen=True)
class Limit:
    """At most ``per_session`` and ``per_address`` hits per window for one route family."""

    name: str
    per_session: int
    per_address: int


# Chat is a person typing; history and search are also polled by the widget on reconnect;
# events come from the store's backend (one address, batches of up to 500).
ROUTE_LIMITS = {
    "/api/chat": Limit("chat", 30, 120),
    "/api/history": Limit("history", 60, 240),
    "/api/search": Limit("search", 60, 240),
    "/api/events": Limit("events", 600, 600),
    "/api/chat/stream": Limit("stream", 20, 60),  # opening a WebSocket
    "/api/me/export": Limit("export", 5, 20),
}
WS_FRAMES = Limit("frames", 120, 600)  # frames a widget sends (typing, pings) per window
# New requests for a person from one address per hour (a conversation has one open request
# at most; the action re-uses it): a flood from one place cannot bury the agents' queue.
HANDOFF_REQUESTS = Limit("handoff", 3, 5)
HANDOFF_WINDOW_SECONDS = 3600


def limit_for(path: str) -> Limit | None:
    """The limit of a path: its own, or that of the route family it lies under (export links)."""
    path = path.rstrip("/")
    while path.startswith("/api/"):
        if path in ROUTE_LIMITS:
            return ROUTE_LIMITS[path]
        path = path.rpartition("/")[0]
    return None


class RateStore(Protocol):
    """Where hit counts live; ``hit`` adds one and returns the window's count so far."""

    async def hit(self, key: str, window_seconds: int) -> int: ...

    async def close(self) -> None: ...


class MemoryRateStore:
    """Counts in a dict, for one process (the demo profile); expired windows are swept."""

    def __init__(self, max_keys: int = 100_000) -> None:
        self._counts: dict[str, tuple[int, float]] = {}
        self._max_keys = max_keys

    async def hit(self, key: str, window_seconds: int) -> int:
        now = time.monotonic()
        count, expires = self._counts.get(key, (0, 0.0))
        if expires <= now:
            count, expires = 0, now + window_seconds
            if len(self._counts) >= self._max_keys:
                self._counts = {k: v for k, v in self._counts.items() if v[1] > now}
        self._counts[key] = (count + 1, expires)
        return count + 1

    async def close(self) -> None:
        self._counts.clear()


class RedisRateStore:
    """Counts in Redis (``INCR`` + ``EXPIRE`` in one transaction), shared by all replicas.

    While Redis is unreachable every hit counts as the first (logged): the limits protect the
    shop, and an outage of their counters must not turn away every shopper's message.
    """

    def __init__(self, url: str) -> None:
        import redis.asyncio

        self._redis = redis.asyncio.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)

    async def hit(self, key: str, window_seconds: int) -> int:
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.incr(f"shop:rate:{key}")
                pipe.expire(f"shop:rate:{key}", window_seconds, nx=True)
                count, _ = await pipe.execute()
        except (RedisError, OSError) as error:
            log.warning("rate limits not counted, Redis unreachable: %s", error)
            return 1
        return int(count)

    async def close(self) -> None:
        await self._redis.aclose()


def make_store(redis_url: str) -> RateStore:
    """Redis when a URL is configured, else memory."""
    return RedisRateStore(redis_url) if redis_url else MemoryRateStore()


class RateLimited(Exception):
    """Over a limit; ``retry_after`` is the whole number of seconds to wait."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"rate limited for {retry_after} s")
        self.retry_after = retry_after


@dataclass
class RateLimiter:
    store: RateStore
    window_seconds: int = WINDOW_SECONDS
    exempt_addresses: frozenset[str] = frozenset()  # no per-address count (SHOP_RATE_LIMIT_EXEMPT)

    def over_window(self, seconds: int) -> RateLimiter:
        """The same store and exemptions with another window length."""
        return RateLimiter(self.store, seconds, self.exempt_addresses)

    async def check(self, limit: Limit, session: str | None, address: str) -> None:
        """Count one hit for the session (when it has one) and the address; raise
        :class:`RateLimited` when either is over its limit."""
        window = int(time.time() // self.window_seconds)
        retry_after = max(1, math.ceil((window + 1) * self.window_seconds - time.time()))
        over = False
        if address not in self.exempt_addresses:
            over = await self.store.hit(f"{limit.name}:a:{address}:{window}", self.window_seconds) > limit.per_address
        if session is not None:
            over |= await self.store.hit(f"{limit.name}:s:{session}:{window}", self.window_seconds) > limit.per_session
        if over:
            raise RateLimited(retry_after)


def too_many(retry_after: int, what: str = "requests") -> web.Response:
    """The 429 answer, with ``Retry-After``."""
    return error_response(
        429, f"too many {what}; try again in {retry_after} seconds",
        headers={"Retry-After": str(retry_after)}, retry_after=retry_after,
    )


def client_address(request: web.Request) -> str:
    """The client's address: the peer, or behind a trusted proxy the address it forwarded
    (``request.remote`` is rewritten by :mod:`assistant.web.proxies`)."""
    return request.remote or "unknown"


def rate_limit_middleware(limiter: RateLimiter) -> Callable[..., Awaitable[web.StreamResponse]]:
    """429 for a route of :data:`ROUTE_LIMITS` over its limit; runs after the session middleware."""

    @web.middleware
    async def middleware(
        request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        limit = limit_for(request.path) if request.method != "OPTIONS" else None
        if limit is not None:
            try:
                await limiter.check(limit, request[SESSION_ID], client_address(request))
            except RateLimited as limited:
                return too_many(limited.retry_after)
        return await handler(request)

    return middleware
