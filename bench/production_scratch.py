"""A production profile of its own on shared PostgreSQL, Redis and RabbitMQ servers, removed afterwards.

The production test suite and the replica load bench both run the whole production stack on
servers other sessions use too, so each run gets fresh PostgreSQL databases (customer store
and tracker store, ``topo_prod_<random>_*``), its own RabbitMQ exchange and analytics queue,
and fresh secrets; Redis keys are per conversation, and conversations are per run. The
customer store gets the demo store's catalog and history (``set_up_demo_store``); the data
directory is a new one whose catalog, index and history link to the demo store's, so the
demo store's own files (its import marker) are left as they were.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import aio_pika
import psycopg
import redis
from psycopg import sql

from assistant.settings import SECRET_NAMES, Settings, load_settings
from assistant.store.db import normalize_url


def unreachable(service: str, url: str) -> str | None:
    """Why ``service`` (PostgreSQL, Redis or RabbitMQ) does not answer at ``url``, or None when it does."""
    try:
        if service == "PostgreSQL":
            psycopg.connect(normalize_url(url).set(drivername="postgresql").render_as_string(hide_password=False),
                            connect_timeout=5).close()
        elif service == "Redis":
            redis.Redis.from_url(url, socket_connect_timeout=5).ping()
        elif service == "RabbitMQ":
            async def connect() -> None:
                connection = await aio_pika.connect(url, timeout=5)
                await connection.close()

            # a thread of its own, so a caller inside a running event loop (an async test) can ask too
            with ThreadPoolExecutor(max_workers=1) as pool:
                pool.submit(asyncio.run, connect()).result()
        else:
            raise ValueError(f"no probe for {service!r}")
    except Exception as error:  # any failure to reach it is the answer
        return f"{type(error).__name__}: {error}"
    return None


def _execute(admin_url: str, statement: sql.Composable) -> None:
    conninfo = normalize_url(admin_url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo, autocommit=True, connect_timeout=5) as connection:
        connection.execute(statement)


def create_database(admin_url: str, purpose: str) -> tuple[str, str]:
    """A new empty database on the server of ``admin_url``: its name and URL (psycopg 3 driver)."""
    name = f"topo_prod_{uuid.uuid4().hex[:10]}_{purpose}"
    _execute(admin_url, sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return name, normalize_url(admin_url).set(database=name).render_as_string(hide_password=False)


def drop_database(admin_url: str, name: str) -> None:
    _execute(admin_url, sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def delete_broker_objects(rabbitmq_url: str, exchange: str, queue: str) -> None:
    async def delete() -> None:
        connection = await aio_pika.connect(rabbitmq_url, timeout=5)
        async with connection:
            channel = await connection.channel()
            await channel.queue_delete(queue)
            await channel.exchange_delete(exchange)

    asyncio.run(delete())


def production_env(data_dir: Path, database_url: str, tracker_url: str, redis_url: str, rabbitmq_url: str,
                   exchange: str, queue: str, **extra: str) -> dict[str, str]:
    """A complete production environment: fresh secrets, these databases and broker objects."""
    return {
        **{name: secrets.token_urlsafe(24) for name in SECRET_NAMES},
        "SHOP_PROFILE": "production",
        "SHOP_DATA_DIR": str(data_dir),
        "SHOP_DATABASE_URL": database_url,
        # Rasa's SQL tracker store speaks psycopg2 (its own venv): a plain postgresql:// URL
        "SHOP_TRACKER_DATABASE_URL": tracker_url.replace("postgresql+psycopg://", "postgresql://"),
        "SHOP_REDIS_URL": redis_url,
        "SHOP_RABBITMQ_URL": rabbitmq_url,
        "SHOP_RABBITMQ_EXCHANGE": exchange,
        "SHOP_RABBITMQ_ANALYTICS_QUEUE": queue,
        **extra,
    }


@contextlib.contextmanager
def scratch_production(demo: Settings, data_dir: Path, postgres_url: str, redis_url: str, rabbitmq_url: str,
                       **extra: str) -> Iterator[Settings]:
    """Production settings in ``data_dir`` over the demo store's catalog and index, on fresh
    databases and broker objects (the customer store migrated, with the demo history); the
    databases and broker objects are removed at the end."""
    from assistant.demo_setup import set_up_demo_store

    data_dir.mkdir(parents=True, exist_ok=True)
    for source in (demo.catalog_path, demo.index_dir, demo.history_dir):
        link = data_dir / source.name
        if not link.exists():
            link.symlink_to(source.resolve())
    suffix = uuid.uuid4().hex[:10]
    exchange, queue = f"topo-prod-{suffix}", f"topo_prod_analytics_{suffix}"
    made: list[str] = []
    try:
        shop, shop_url = create_database(postgres_url, "shop")
        made.append(shop)
        tracker, tracker_url = create_database(postgres_url, "tracker")
        made.append(tracker)
        env = production_env(data_dir, shop_url, tracker_url, redis_url, rabbitmq_url, exchange, queue,
                             SHOP_POLICY_FILE=str(demo.policy_file), SHOP_EMBEDDING_MODEL=demo.embedding_model, **extra)
        settings = load_settings(data_dir, env=env)
        set_up_demo_store(settings, progress=False)  # migrates (the `db migrate` step) and imports the history
        yield settings
    finally:
        for name in made:
            drop_database(postgres_url, name)
        with contextlib.suppress(OSError, aio_pika.exceptions.AMQPError):
            delete_broker_objects(rabbitmq_url, exchange, queue)
