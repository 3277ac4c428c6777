"""The production analytics feed against a real RabbitMQ: Rasa-shaped events published to a
fanout exchange are stored once each, a redelivered batch adds nothing, and a message that
is not an event is dropped and acknowledged (it would otherwise come back forever).

Uses its own exchange and queue names and deletes them; skips when no broker answers at
``SHOP_TEST_RABBITMQ_URL`` (default ``amqp://guest:guest@127.0.0.1:5672/``).
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
from dataclasses import replace
from pathlib import Path

import aio_pika
import pytest
from sqlalchemy import func, select

from assistant.observe.broker_feed import consume
from assistant.store.db import open_store
from assistant.store.models import AnalyticsEvent
from tests.test_observe_analytics import SECRET, T0, ended_on_fallback
from tests.test_web_gateway import web_settings

RABBITMQ_URL = os.environ.get("SHOP_TEST_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/")


async def broker_or_skip() -> aio_pika.abc.AbstractConnection:
    try:
        return await aio_pika.connect(RABBITMQ_URL, timeout=5)
    except (OSError, aio_pika.exceptions.AMQPError, asyncio.TimeoutError) as error:
        pytest.skip(f"no RabbitMQ at {RABBITMQ_URL} ({type(error).__name__}); set SHOP_TEST_RABBITMQ_URL")


async def test_broker_events_are_stored_once(tmp_path: Path) -> None:
    connection = await broker_or_skip()
    suffix = secrets.token_hex(4)
    settings = replace(web_settings(tmp_path, "http://127.0.0.1:9"), store_secret=SECRET, rabbitmq_url=RABBITMQ_URL,
                       rabbitmq_exchange=f"observe-test-{suffix}", rabbitmq_analytics_queue=f"observe-test-{suffix}")
    store = open_store(settings.database_url, migrate_first=True)
    stop = asyncio.Event()
    consumer = asyncio.create_task(consume(settings, store, stop))
    events = [{**event, "sender_id": "broker-shopper"} for event in ended_on_fallback(T0).events]

    def stored() -> int:
        with store.unit_of_work() as uow:
            return int(uow.session.scalar(select(func.count(AnalyticsEvent.id))) or 0)

    async def settle(expected: int) -> None:
        async with asyncio.timeout(60):
            while stored() != expected:
                await asyncio.sleep(0.2)

    try:
        channel = await connection.channel()
        exchange = await channel.declare_exchange(settings.rabbitmq_exchange, aio_pika.ExchangeType.FANOUT, durable=True)
        async with asyncio.timeout(30):
            while True:  # the consumer has bound its queue once a publish reaches it
                queue = await channel.declare_queue(settings.rabbitmq_analytics_queue, durable=True, passive=False)
                if queue.declaration_result.consumer_count:
                    break
                await asyncio.sleep(0.2)
        for body in [b"not an event", *(json.dumps(event).encode() for event in events)]:
            await exchange.publish(aio_pika.Message(body), routing_key="")
        await settle(4)  # start, two messages, the fallback: as the tracker feed folds them
        for event in events:  # the whole conversation again: a redelivery
            await exchange.publish(aio_pika.Message(json.dumps(event).encode()), routing_key="")
        await exchange.publish(aio_pika.Message(b'{"event": "user"}'), routing_key="")  # no sender: dropped
        async with asyncio.timeout(60):
            while (await channel.declare_queue(settings.rabbitmq_analytics_queue, durable=True)).declaration_result.message_count:
                await asyncio.sleep(0.2)
        assert stored() == 4
        with store.unit_of_work() as uow:
            kinds = list(uow.session.scalars(select(AnalyticsEvent.kind).order_by(AnalyticsEvent.at)))
            text = uow.session.scalar(select(AnalyticsEvent.text).where(AnalyticsEvent.kind == "fallback"))
        assert kinds == ["conversation_start", "message", "message", "fallback"]
        assert text == "do you price match"
    finally:
        stop.set()
        await asyncio.wait_for(consumer, 30)
        channel = await connection.channel()
        await channel.queue_delete(settings.rabbitmq_analytics_queue)
        await channel.exchange_delete(settings.rabbitmq_exchange)
        await connection.close()
        store.close()
