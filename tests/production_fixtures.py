"""The production profile's real services on loopback, for ``pytest -m production`` (make test-prod).

PostgreSQL from ``SHOP_TEST_POSTGRES_URL``, Redis from ``SHOP_TEST_REDIS_URL`` (db 2 by
default, this suite's own), RabbitMQ from ``SHOP_TEST_RABBITMQ_URL``; each is probed once
and a test that needs an absent one is skipped with a sentence saying which and where.
Every test session gets its own PostgreSQL databases (customer store and tracker store,
``topo_prod_<random>_*``, dropped at the end), its own RabbitMQ exchange and analytics
queue (deleted at the end) and its own Redis lock-key prefix, so it runs beside other
sessions on shared servers.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import aio_pika
import psycopg
import pytest
import redis
from psycopg import sql

from assistant.settings import SECRET_NAMES, Settings, load_settings
from assistant.store.db import normalize_url

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/2"
DEFAULT_RABBITMQ_URL = "amqp://guest:guest@127.0.0.1:5672/"

_probed: dict[str, str | None] = {}


def _admin_conninfo() -> tuple[str, str]:
    admin_url = normalize_url(os.environ.get("SHOP_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL))
    return admin_url.set(drivername="postgresql").render_as_string(hide_password=False), admin_url.render_as_string()


def _probe(name: str) -> str | None:
    """None when the service answers, else why not (probed once per session)."""
    if name not in _probed:
        try:
            if name == "PostgreSQL":
                conninfo, _ = _admin_conninfo()
                psycopg.connect(conninfo, connect_timeout=5).close()
            elif name == "Redis":
                redis.Redis.from_url(redis_url(), socket_connect_timeout=5).ping()
            elif name == "RabbitMQ":
                async def connect() -> None:
                    connection = await aio_pika.connect(rabbitmq_url(), timeout=5)
                    await connection.close()

                asyncio.run(connect())
            elif name == "HAProxy":
                if not (shutil.which("haproxy") or Path("/usr/sbin/haproxy").exists()):
                    raise RuntimeError("not installed (make haproxy)")
            _probed[name] = None
        except Exception as error:  # any failure to reach the service means: skip, saying why
            _probed[name] = f"{type(error).__name__}: {error}"
    return _probed[name]


def require(*services: str) -> None:
    """Skip the calling test with a plain message unless every named service answers."""
    for name in services:
        problem = _probe(name)
        if problem is not None:
            variable = {"PostgreSQL": "SHOP_TEST_POSTGRES_URL", "Redis": "SHOP_TEST_REDIS_URL",
                        "RabbitMQ": "SHOP_TEST_RABBITMQ_URL"}.get(name)
            where = f" (set {variable} to point at one)" if variable else ""
            pytest.skip(f"{name} is not available for the production tests: {problem}{where}")


def redis_url() -> str:
    return os.environ.get("SHOP_TEST_REDIS_URL", DEFAULT_REDIS_URL)


def rabbitmq_url() -> str:
    return os.environ.get("SHOP_TEST_RABBITMQ_URL", DEFAULT_RABBITMQ_URL)


def _execute(conninfo: str, statement: sql.Composable) -> None:
    with psycopg.connect(conninfo, autocommit=True, connect_timeout=5) as connection:
        connection.execute(statement)


def fresh_database(config: pytest.Config, purpose: str) -> str:
    """A new empty PostgreSQL database, dropped when the session ends; its URL (psycopg 3)."""
    conninfo, _ = _admin_conninfo()
    name = f"topo_prod_{uuid.uuid4().hex[:10]}_{purpose}"
    _execute(conninfo, sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    config.add_cleanup(lambda: _execute(conninfo, sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))))
    admin = normalize_url(os.environ.get("SHOP_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL))
    return admin.set(database=name).render_as_string(hide_password=False)


def _delete_broker_objects(exchange: str, queue: str) -> None:
    async def delete() -> None:
        connection = await aio_pika.connect(rabbitmq_url(), timeout=5)
        async with connection:
            channel = await connection.channel()
            await channel.queue_delete(queue)
            await channel.exchange_delete(exchange)

    asyncio.run(delete())


def production_env(data_dir: Path, database_url: str, tracker_url: str, exchange: str, queue: str,
                   **extra: str) -> dict[str, str]:
    """A complete production environment: fresh secrets, this session's databases and broker objects."""
    return {
        **{name: secrets.token_urlsafe(24) for name in SECRET_NAMES},
        "SHOP_PROFILE": "production",
        "SHOP_DATA_DIR": str(data_dir),
        "SHOP_DATABASE_URL": database_url,
        # Rasa's SQL tracker store speaks psycopg2 (its own venv): a plain postgresql:// URL
        "SHOP_TRACKER_DATABASE_URL": tracker_url.replace("postgresql+psycopg://", "postgresql://"),
        "SHOP_REDIS_URL": redis_url(),
        "SHOP_RABBITMQ_URL": rabbitmq_url(),
        "SHOP_RABBITMQ_EXCHANGE": exchange,
        "SHOP_RABBITMQ_ANALYTICS_QUEUE": queue,
        **extra,
    }


@pytest.fixture(scope="session")
def production_settings(pytestconfig: pytest.Config, demo_settings: Settings) -> Iterator[Settings]:
    """The demo store's catalog and index with its history imported into a fresh PostgreSQL
    customer store, a fresh tracker database, this session's exchange and analytics queue."""
    from assistant.demo_setup import set_up_demo_store

    require("PostgreSQL", "Redis", "RabbitMQ")
    suffix = uuid.uuid4().hex[:10]
    exchange, queue = f"topo-prod-{suffix}", f"topo_prod_analytics_{suffix}"
    env = production_env(
        demo_settings.data_dir, fresh_database(pytestconfig, "shop"), fresh_database(pytestconfig, "tracker"),
        exchange, queue,
        SHOP_POLICY_FILE=str(demo_settings.policy_file), SHOP_EMBEDDING_MODEL=demo_settings.embedding_model,
        # 127.0.0.2 stands for the TLS-terminating proxy in front of the balancer (loopback is 127/8)
        SHOP_TRUSTED_PROXIES="127.0.0.2",
    )
    settings = load_settings(demo_settings.data_dir, env=env)
    set_up_demo_store(settings, progress=False)  # migrates (the `db migrate` step) and imports the history
    yield settings
    if _probe("RabbitMQ") is None:
        _delete_broker_objects(exchange, queue)
