"""Rasa's tracker events from RabbitMQ: what drives live updates in the production profile.

Rasa's Pika event broker publishes every tracker event (with its ``sender_id``) to a fanout
exchange. Each web replica binds its own exclusive, auto-deleted, server-named queue to it,
so every replica sees every event and nothing piles up for a replica that is gone. An event
that can change what agents or shoppers see (a shopper's or the bot's message, a pause or
resume of the bot) wakes the watch pass (:mod:`assistant.web.live.watcher`); the pass reads
the conversation from Rasa and pushes it through the hub. The events only say *when* to
look: the tracker stays the transcript, with its message ids, so a pass after a broker
outage catches up on everything (one is run on every (re)connection).

If RabbitMQ drops, the consumer logs it and reconnects with backoff. Shoppers lose nothing
they typed meanwhile: ``/api/chat`` goes to Rasa, not through the broker.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from typing import Any

import aio_pika
from aio_pika.abc import AbstractIncomingMessage

from assistant.web.live.hub import Hub

log = logging.getLogger(__name__)
LIVE_EVENTS = frozenset({"user", "bot", "pause", "resume", "restart"})
MAX_BACKOFF_SECONDS = 30.0


def wakes(event: Any) -> bool:
    """Whether a broker message is a tracker event the watch pass must look at."""
    return isinstance(event, dict) and event.get("event") in LIVE_EVENTS and isinstance(event.get("sender_id"), str)


class EventConsumer:
    def __init__(self, url: str, exchange: str, hub: Hub, name: str | None = None) -> None:
        self.url, self.exchange, self.hub = url, exchange, hub
        self.name = name or f"shop-web-{os.getpid()}"  # how RabbitMQ lists this replica's connection
        self.bound = asyncio.Event()  # set while this replica's queue is bound (tests wait for it)
        self._backoff, self._failures = 0.5, 0

    def _on_message(self, message: AbstractIncomingMessage) -> None:
        try:
            event = json.loads(message.body)
        except ValueError:
            log.warning("broker: dropped a message that is not JSON")
            return
        if wakes(event):
            self.hub.wake.set()

    async def _consume_once(self) -> None:
        """Bind a fresh queue and consume until the connection is lost (raises ``ConnectionError``)."""
        connection = await aio_pika.connect(self.url, timeout=10, client_properties={"connection_name": self.name})
        lost: asyncio.Future[BaseException | None] = asyncio.get_running_loop().create_future()

        def on_close(_: Any, error: BaseException | None = None) -> None:
            if not lost.done():
                lost.set_result(error)

        connection.close_callbacks.add(on_close)
        try:
            channel = await connection.channel()
            exchange = await channel.declare_exchange(self.exchange, aio_pika.ExchangeType.FANOUT)  # as Rasa does
            queue = await channel.declare_queue(exclusive=True, auto_delete=True)
            await queue.bind(exchange)

            async def on_message(message: AbstractIncomingMessage) -> None:
                self._on_message(message)

            await queue.consume(on_message, no_ack=True)
            log.info("broker: consuming Rasa's events from exchange %s (after %d failed attempts)", self.exchange,
                     self._failures)
            self._backoff, self._failures = 0.5, 0
            self.bound.set()
            self.hub.wake.set()  # catch up on whatever happened before (or while away)
            error = await lost
            raise ConnectionError(f"connection closed: {error or 'by the server'}")
        finally:
            self.bound.clear()
            if not connection.is_closed:
                await connection.close()

    async def run(self) -> None:
        """Consume until cancelled, reconnecting with backoff (0.5 s doubling to 30 s)."""
        while True:
            try:
                await self._consume_once()
            except (aio_pika.exceptions.AMQPError, OSError, asyncio.TimeoutError, ConnectionError) as error:
                self._failures += 1
                log.warning(
                    "broker: RabbitMQ unavailable (%s); live updates wait, retrying in %.1f s", error, self._backoff
                )
                await asyncio.sleep(self._backoff)
                self._backoff = min(self._backoff * 2, MAX_BACKOFF_SECONDS)
