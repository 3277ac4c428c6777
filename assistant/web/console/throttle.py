"""Slowing down password guessing on the agent login.

Argon2 makes each guess expensive, but an online attacker can still try a list of common
passwords against a known username. Every sign-in is counted as a failure the moment it
arrives, in the same atomic step that decides whether its password may be checked at
all: a burst of parallel guesses cannot slip past the limit while earlier ones are still
being hashed (checking first and recording after the hash could be raced). A success
takes its own attempt back and clears the username's count. Counts are kept per username
and, with a higher limit, per client address; attempts refused by the limit count too, so
hammering keeps the lock on. They live where agent sessions live: in the web process in the
demo profile (:class:`LoginThrottle`; a restart forgets them), in Redis shared by every web
replica in production (:class:`RedisLoginThrottle`, one sorted set of attempt times per key,
changed in one MULTI transaction so that parallel attempts on any replicas are counted exactly).
"""

from __future__ import annotations

import math
import secrets
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from assistant.settings import Settings
from assistant.web.live.shared import namespace

WINDOW_SECONDS = 15 * 60
MAX_FAILURES_PER_USERNAME = 5
MAX_FAILURES_PER_ADDRESS = 20
MAX_TRACKED_KEYS = 10_000


@dataclass(frozen=True)
class Attempt:
    """One sign-in, already counted as a failure; ``retry_after`` is set when it was refused."""

    keys: tuple[str, ...]
    at: float
    retry_after: int | None
    member: str = ""  # its entry in Redis (a unique name for the same time)

    @property
    def allowed(self) -> bool:
        """Whether the password may be checked."""
        return self.retry_after is None


def _limits(username: str, address: str | None) -> list[tuple[str, int]]:
    limits = [(user_key(username), MAX_FAILURES_PER_USERNAME)]
    if address:
        limits.append((f"addr:{address}", MAX_FAILURES_PER_ADDRESS))
    return limits


def user_key(username: str) -> str:
    return f"user:{username.lower()}"


def _wait(times: list[float], limit: int, now: float) -> float | None:
    """Seconds until a key with these attempt times (this one included) is below its limit again."""
    if len(times) <= limit:
        return None
    return times[len(times) - limit] + WINDOW_SECONDS - now


def _retry(waits: list[float | None]) -> int | None:
    over = [wait for wait in waits if wait is not None]
    return max(1, math.ceil(max(over))) if over else None


class Throttle(Protocol):
    async def attempt(self, username: str, address: str | None) -> Attempt: ...

    async def succeeded(self, attempt: Attempt) -> None: ...

    async def failures(self, *, username: str | None = None, address: str | None = None) -> int: ...

    async def close(self) -> None: ...


@dataclass
class LoginThrottle:
    """Recent sign-ins that did not succeed, per username and per client address, in this process.

    Its methods do not await, so each runs as one step on the event loop.
    """

    clock: Callable[[], float] = time.monotonic
    _failures: defaultdict[str, deque[float]] = field(default_factory=lambda: defaultdict(deque))

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self._failures[key]
        while times and times[0] <= now - WINDOW_SECONDS:
            times.popleft()
        return times

    async def attempt(self, username: str, address: str | None) -> Attempt:
        """Reserve a sign-in: count it as failed now, and say whether its password may be checked."""
        now = self.clock()
        if len(self._failures) > MAX_TRACKED_KEYS:
            self._sweep(now)
        waits: list[float | None] = []
        limits = _limits(username, address)
        for key, limit in limits:
            times = self._recent(key, now)
            times.append(now)
            waits.append(_wait(list(times), limit, now))
        return Attempt(tuple(key for key, _ in limits), now, _retry(waits))

    async def succeeded(self, attempt: Attempt) -> None:
        """The password was right: take the attempt back and clear the username's failures."""
        user, *other_keys = attempt.keys
        self._failures.pop(user, None)
        for key in other_keys:
            times = self._failures.get(key)
            if times is not None and attempt.at in times:
                times.remove(attempt.at)

    async def failures(self, *, username: str | None = None, address: str | None = None) -> int:
        """Failures counted within the window for a username or an address (for reports and tests)."""
        key = user_key(username) if username is not None else f"addr:{address}"
        return len(self._recent(key, self.clock())) if key in self._failures else 0

    async def close(self) -> None:
        self._failures.clear()

    def _sweep(self, now: float) -> None:
        """Forget keys with no failure left in the window, so random usernames cannot grow memory."""
        for key in [key for key in self._failures if not self._recent(key, now)]:
            del self._failures[key]


class RedisLoginThrottle:
    """The same counts in Redis (``<prefix><key>``, attempt times as scores), shared by every web replica.

    One MULTI transaction per attempt drops the times out of the window, adds this one and
    reads the rest, for every key at once: Redis runs it as one step, so parallel attempts
    on any replicas each see all the attempts before them. Times are wall-clock (replicas
    share no monotonic clock).
    """

    def __init__(self, url: str, prefix: str, clock: Callable[[], float] = time.time) -> None:
        import redis.asyncio

        self._redis = redis.asyncio.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
        self.clock, self.PREFIX = clock, prefix

    async def attempt(self, username: str, address: str | None) -> Attempt:
        now, member = self.clock(), f"{self.clock():.6f}:{secrets.token_hex(4)}"
        limits = _limits(username, address)
        async with self._redis.pipeline(transaction=True) as pipe:
            for key, _ in limits:
                pipe.zremrangebyscore(self.PREFIX + key, "-inf", now - WINDOW_SECONDS)
                pipe.zadd(self.PREFIX + key, {member: now})
                pipe.zrange(self.PREFIX + key, 0, -1, withscores=True)
                pipe.expire(self.PREFIX + key, WINDOW_SECONDS)
            results = await pipe.execute()
        waits = [
            _wait(sorted(score for _, score in results[4 * n + 2]), limit, now) for n, (_, limit) in enumerate(limits)
        ]
        return Attempt(tuple(key for key, _ in limits), now, _retry(waits), member)

    async def succeeded(self, attempt: Attempt) -> None:
        user, *other_keys = attempt.keys
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.delete(self.PREFIX + user)
            for key in other_keys:
                pipe.zrem(self.PREFIX + key, attempt.member)
            await pipe.execute()

    async def failures(self, *, username: str | None = None, address: str | None = None) -> int:
        key = user_key(username) if username is not None else f"addr:{address}"
        return int(await self._redis.zcount(self.PREFIX + key, f"({self.clock() - WINDOW_SECONDS}", "+inf"))

    async def close(self) -> None:
        await self._redis.aclose()


def make_throttle(settings: Settings) -> Throttle:
    """Redis when a URL is configured (keys named for the store), else this process's memory."""
    if not settings.redis_url:
        return LoginThrottle()
    return RedisLoginThrottle(settings.redis_url, prefix=namespace(settings.redis_url, settings.database_url) + "login:")
