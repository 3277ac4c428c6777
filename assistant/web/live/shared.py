"""What web replicas share through Redis in production: a namespace, one-pass locks, the watch marks.

The namespace names the Redis database and the store (``shop:<db>:<digest of the customer
store's URL>:``): the replicas of one store share it, and two stores on one Redis server
never see each other's keys or pub/sub messages (pub/sub channels are server-wide in Redis,
whatever the database number). Replicas must therefore be given the same
``SHOP_DATABASE_URL``, as they are by one deployment's configuration.
"""

from __future__ import annotations

import hashlib
import secrets
import urllib.parse
from collections.abc import AsyncIterator, Set
from contextlib import asynccontextmanager
from typing import Protocol

import redis.asyncio

# Raise a conversation's mark only upwards, in one step (two replicas may push at once).
_RAISE = """
local current = redis.call('HGET', KEYS[1], ARGV[1])
if (not current) or tonumber(current) < tonumber(ARGV[2]) then
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
  return tonumber(ARGV[2])
end
return tonumber(current)
"""


# Delete a lock only while it is still ours (it may have expired and been taken by another replica).
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


def namespace(redis_url: str, database_url: str) -> str:
    """``shop:<db>:<store>:``: the Redis database the URL names (0 when none) and the store's digest."""
    db = urllib.parse.urlsplit(redis_url).path.strip("/") or "0"
    store = hashlib.sha256(database_url.encode()).hexdigest()[:12]
    return f"shop:{db}:{store}:"


def connect(redis_url: str) -> redis.asyncio.Redis:
    return redis.asyncio.Redis.from_url(redis_url, socket_connect_timeout=5, health_check_interval=15)


async def take_pass(client: redis.asyncio.Redis, key: str, ttl_ms: int) -> bool:
    """Whether this replica gets the pass named ``key`` (``SET NX PX``): one replica per key
    until it expires. The key is not deleted after the pass, so a name per time slot runs once."""
    return bool(await client.set(key, "1", nx=True, px=ttl_ms))


@asynccontextmanager
async def exclusive(client: redis.asyncio.Redis, key: str, ttl_ms: int) -> AsyncIterator[bool]:
    """Whether this replica holds the lock ``key`` for the block (``SET NX PX``, released
    after it); ``ttl_ms`` frees it if the replica dies inside."""
    token = secrets.token_hex(8)
    held = bool(await client.set(key, token, nx=True, px=ttl_ms))
    try:
        yield held
    finally:
        if held:
            await client.eval(_RELEASE, 1, key, token)


class Marks(Protocol):
    """The last tracker event index of each conversation already pushed to agents."""

    async def get(self, sender: str) -> int | None: ...

    async def set(self, sender: str, index: int) -> None: ...

    async def raise_to(self, sender: str, index: int) -> None: ...

    async def keep_only(self, senders: Set[str]) -> None: ...


class MemoryMarks:
    """Marks of one web process (the demo profile)."""

    def __init__(self) -> None:
        self._marks: dict[str, int] = {}

    async def get(self, sender: str) -> int | None:
        return self._marks.get(sender)

    async def set(self, sender: str, index: int) -> None:
        self._marks[sender] = index

    async def raise_to(self, sender: str, index: int) -> None:
        self._marks[sender] = max(self._marks.get(sender, -1), index)

    async def keep_only(self, senders: Set[str]) -> None:
        for sender in set(self._marks) - senders:
            del self._marks[sender]


class RedisMarks:
    """Marks in one Redis hash, so whichever replica runs the next watch pass (or takes a
    claim) pushes exactly what no replica has pushed yet."""

    def __init__(self, client: redis.asyncio.Redis, key: str) -> None:
        self._redis, self._key = client, key
        self._raise = client.register_script(_RAISE)

    async def get(self, sender: str) -> int | None:
        value = await self._redis.hget(self._key, sender)
        return int(value) if value is not None else None

    async def set(self, sender: str, index: int) -> None:
        await self._redis.hset(self._key, sender, index)

    async def raise_to(self, sender: str, index: int) -> None:
        await self._raise(keys=[self._key], args=[sender, index])

    async def keep_only(self, senders: Set[str]) -> None:
        names = [raw.decode() if isinstance(raw, bytes) else raw for raw in await self._redis.hkeys(self._key)]
        stale = [name for name in names if name not in senders]
        if stale:
            await self._redis.hdel(self._key, *stale)
