"""Real Redis and RabbitMQ for the production-profile tests, or a skip that says what is missing.

Redis comes from ``SHOP_TEST_REDIS_URL`` (default: db 3 of the local server) and RabbitMQ from
``SHOP_TEST_RABBITMQ_URL`` (default: the local guest account). Every test names its own keys,
channel and exchange, so parallel runs and other users of these servers are left alone.
"""

from __future__ import annotations

import os
import secrets

import pytest

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/3"
DEFAULT_RABBITMQ_URL = "amqp://guest:guest@127.0.0.1:5672/"


def redis_test_url() -> str:
    return os.environ.get("SHOP_TEST_REDIS_URL", DEFAULT_REDIS_URL)


def rabbitmq_test_url() -> str:
    return os.environ.get("SHOP_TEST_RABBITMQ_URL", DEFAULT_RABBITMQ_URL)


def unique(name: str) -> str:
    """A name no other test run uses (Redis channels and RabbitMQ exchanges are server-wide)."""
    return f"test-{name}-{secrets.token_hex(4)}"


async def require_redis() -> None:
    """Skip the test unless Redis answers at :func:`redis_test_url`."""
    import redis.asyncio
    from redis.exceptions import RedisError

    client = redis.asyncio.Redis.from_url(redis_test_url(), socket_connect_timeout=3)
    try:
        await client.ping()
    except (RedisError, OSError) as error:
        pytest.skip(f"Redis is not reachable at {redis_test_url()}: {error} (set SHOP_TEST_REDIS_URL)")
    finally:
        await client.aclose()


async def require_rabbitmq() -> None:
    """Skip the test unless RabbitMQ accepts a connection at :func:`rabbitmq_test_url`."""
    import aio_pika

    try:
        connection = await aio_pika.connect(rabbitmq_test_url(), timeout=5)
    except (OSError, aio_pika.exceptions.AMQPError) as error:
        pytest.skip(f"RabbitMQ is not reachable at {rabbitmq_test_url()}: {error} (set SHOP_TEST_RABBITMQ_URL)")
    await connection.close()
