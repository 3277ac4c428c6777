"""Where agent sessions live: this process's memory (demo) or Redis (production, ``SHOP_REDIS_URL``).

Redis rather than the customer store's SQL database, because production needs Redis anyway
(rate limits, the live fan-out between web replicas, the reminder lock) and it fits what a
session is: a key read and rewritten on every console request, whose TTL (refreshed on use,
at most the session's absolute end) expires idle and old sessions without a sweep or a write
to the store of record; a logout deletes the key, which every replica reads on the next
request. The demo profile is one web process, so it keeps sessions in memory as before and
needs neither a schema change nor a write to SQLite per console request. What must outlive a
session's key (the account, its disable and its password epoch) stays in SQL, checked on
every request.
"""

from __future__ import annotations

import json
from typing import Protocol

from assistant.settings import Settings
from assistant.web.console.auth import AgentSession
from assistant.web.live.shared import namespace


class SessionStore(Protocol):
    """Sessions by key (the hash of the cookie token); ``ttl`` is in seconds."""

    async def save(self, key: str, session: AgentSession, ttl: int) -> None: ...

    async def load(self, key: str) -> AgentSession | None: ...

    async def delete(self, key: str) -> None: ...

    async def unexpiring_keys(self) -> list[str]:
        """Keys the store cannot expire by itself (the sweeper checks them)."""
        ...

    async def close(self) -> None: ...


class MemorySessionStore:
    """Sessions in a dict, for one web process; the sweeper ends idle ones."""

    def __init__(self) -> None:
        self._sessions: dict[str, AgentSession] = {}

    async def save(self, key: str, session: AgentSession, ttl: int) -> None:
        self._sessions[key] = session

    async def load(self, key: str) -> AgentSession | None:
        return self._sessions.get(key)

    async def delete(self, key: str) -> None:
        self._sessions.pop(key, None)

    async def unexpiring_keys(self) -> list[str]:
        return list(self._sessions)

    async def close(self) -> None:
        self._sessions.clear()


class RedisSessionStore:
    """Sessions as JSON under ``<prefix><hash>`` with a TTL, shared by every web replica.

    The prefix names the store (:func:`~assistant.web.live.shared.namespace`): a session of
    one store is no session at another sharing the Redis server, whose agent ids differ.
    """

    def __init__(self, url: str, prefix: str) -> None:
        import redis.asyncio

        self._redis = redis.asyncio.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
        self._prefix = prefix

    async def save(self, key: str, session: AgentSession, ttl: int) -> None:
        await self._redis.set(self._prefix + key, json.dumps(session.as_json()), ex=ttl)

    async def load(self, key: str) -> AgentSession | None:
        raw = await self._redis.get(self._prefix + key)
        return AgentSession.from_json(key, json.loads(raw)) if raw else None

    async def delete(self, key: str) -> None:
        await self._redis.delete(self._prefix + key)

    async def unexpiring_keys(self) -> list[str]:
        return []

    async def close(self) -> None:
        await self._redis.aclose()


def make_session_store(settings: Settings) -> SessionStore:
    """Redis when a URL is configured, else memory (the same choice as the rate limits)."""
    if not settings.redis_url:
        return MemorySessionStore()
    return RedisSessionStore(settings.redis_url, namespace(settings.redis_url, settings.database_url) + "agent-session:")
