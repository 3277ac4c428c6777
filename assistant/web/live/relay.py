"""Fan-out of hub messages across web replicas through Redis pub/sub (production).

A message to a shopper or to agents is published once on the store's channel; every
replica subscribes and hands it to the sockets it holds (:meth:`Hub.deliver`), so a message
posted to replica A reaches a WebSocket on replica B. Pub/sub keeps nothing for a replica
that is not listening: while Redis is away a replica delivers to its own sockets only, logs
it, and resubscribes with backoff; clients catch up from the transcript as always.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import redis.asyncio
from redis.exceptions import RedisError

from assistant.web.live.hub import Hub

log = logging.getLogger(__name__)
MAX_BACKOFF_SECONDS = 30.0


class RedisRelay:
    def __init__(self, client: redis.asyncio.Redis, channel: str) -> None:
        self._redis, self.channel = client, channel
        self.subscribed = asyncio.Event()  # set while this replica listens (tests wait for it)

    async def publish(self, message: dict[str, Any]) -> bool:
        try:
            await self._redis.publish(self.channel, json.dumps(message))
        except (RedisError, OSError) as error:
            log.warning("live relay: Redis unreachable, delivering on this replica only: %s", error)
            return False
        return True

    async def listen(self, hub: Hub) -> None:
        """Run until cancelled: deliver every published message to this replica's sockets."""
        backoff = 0.5
        while True:
            try:
                async with self._redis.pubsub(ignore_subscribe_messages=True) as pubsub:
                    await pubsub.subscribe(self.channel)
                    log.info("live relay: subscribed to %s", self.channel)
                    backoff = 0.5
                    self.subscribed.set()
                    async for raw in pubsub.listen():
                        await self._deliver(hub, raw)
            except (RedisError, OSError) as error:
                self.subscribed.clear()
                log.warning("live relay: lost Redis (%s); resubscribing in %.1f s", error, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)

    @staticmethod
    async def _deliver(hub: Hub, raw: dict[str, Any]) -> None:
        if raw.get("type") != "message":
            return
        try:
            message = json.loads(raw["data"])
        except (ValueError, TypeError):
            log.warning("live relay: dropped a message that is not JSON")
            return
        if isinstance(message, dict):
            await hub.deliver(message)
