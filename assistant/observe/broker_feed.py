"""The production profile's analytics feed: Rasa's events from RabbitMQ (``analytics consume``).

Rasa publishes every tracker event (with its ``sender_id``) to the fanout exchange
``SHOP_RABBITMQ_EXCHANGE``; this consumer reads the durable queue ``SHOP_RABBITMQ_ANALYTICS_QUEUE``
bound to it, folds each event (:mod:`assistant.observe.fold`) and acknowledges it only
once its fact is committed, so a crash redelivers rather than loses, and the event key
makes a redelivery count nothing twice. Run one consumer: it remembers each
conversation's channel, customer and latest words (:class:`~assistant.observe.fold.Context`)
to label the facts that follow; after a restart the first fallback of a conversation may
lack its words until the shopper speaks again.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import OrderedDict
from typing import Any

import aio_pika

from assistant.observe.fold import Context, Verify, fold_event
from assistant.observe.tracker_feed import token_verifier
from assistant.settings import Settings
from assistant.store.db import Store, open_store

log = logging.getLogger(__name__)
REMEMBERED_CONVERSATIONS = 10_000
PREFETCH = 100


class EventFolder:
    """Folds a stream of events from many conversations, remembering the most recent ones' context."""

    def __init__(self, verify: Verify, remembered: int = REMEMBERED_CONVERSATIONS) -> None:
        self.verify = verify
        self.remembered = remembered
        self.contexts: OrderedDict[str, Context] = OrderedDict()

    def context(self, sender_id: str) -> Context:
        context = self.contexts.pop(sender_id, None) or Context(sender_id)
        self.contexts[sender_id] = context
        while len(self.contexts) > self.remembered:
            self.contexts.popitem(last=False)
        return context


def store_event(store: Store, folder: EventFolder, body: bytes) -> int:
    """Fold and store one broker message; 0 for an event that is no fact or is not an event at all."""
    try:
        event: Any = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        log.warning("analytics: a broker message that is not JSON was dropped")
        return 0
    if not isinstance(event, dict) or not isinstance(event.get("sender_id"), str):
        log.warning("analytics: a broker message without a sender was dropped")
        return 0
    fact = fold_event(event, folder.context(event["sender_id"]), folder.verify)
    if fact is None:
        return 0
    with store.unit_of_work() as uow:
        added = uow.analytics.add([fact])
        uow.commit()
    return added


async def consume(settings: Settings, store: Store, stop: asyncio.Event) -> None:
    """Consume until ``stop`` is set; the queue is declared durable and bound to Rasa's exchange."""
    folder = EventFolder(token_verifier(settings))
    connection = await aio_pika.connect_robust(settings.rabbitmq_url)
    async with connection:
        channel = await connection.channel()
        await channel.set_qos(prefetch_count=PREFETCH)
        exchange = await channel.declare_exchange(settings.rabbitmq_exchange, aio_pika.ExchangeType.FANOUT, durable=True)
        queue = await channel.declare_queue(settings.rabbitmq_analytics_queue, durable=True)
        await queue.bind(exchange)

        async def read_in_order() -> None:
            # One message at a time, in queue order: a fallback's words come from the message before it.
            async with queue.iterator() as messages:
                async for message in messages:
                    try:
                        await asyncio.to_thread(store_event, store, folder, message.body)
                    except Exception:
                        log.exception("analytics: storing a broker event failed; it goes back to the queue")
                        await message.nack(requeue=True)
                        await asyncio.sleep(1.0)  # the store is likely down: don't spin on redeliveries
                        continue
                    await message.ack()

        reader = asyncio.create_task(read_in_order())
        stopped = asyncio.create_task(stop.wait())
        await asyncio.wait({reader, stopped}, return_when=asyncio.FIRST_COMPLETED)
        for task in (reader, stopped):
            task.cancel()
        await asyncio.gather(reader, stopped, return_exceptions=True)
        if reader.done() and not reader.cancelled() and reader.exception() is not None:
            raise reader.exception()  # type: ignore[misc]


async def consume_forever(settings: Settings) -> None:
    """``shop-assistant analytics consume``: migrate, then consume until interrupted."""
    with open_store(settings.database_url, migrate_first=True) as store:
        await consume(settings, store, asyncio.Event())
