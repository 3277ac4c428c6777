"""The production profile's session fixtures for ``pytest -m production`` (make test-prod).

Every test session gets its own PostgreSQL databases (customer store and tracker store,
``topo_prod_<random>_*``, dropped at the end), its own RabbitMQ exchange and analytics
queue (deleted at the end) and its own Redis lock-key prefix, so it runs beside other
sessions on shared servers. Finding the services (and skipping without them) is
:mod:`tests.production_services`.
"""

from __future__ import annotations

import asyncio
import secrets
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import aio_pika
import aiohttp
import psycopg
import pytest
from psycopg import sql
from sqlalchemy import text

from assistant.production_plan import FrontPorts, ProductionStack, running_production
from assistant.settings import SECRET_NAMES, Settings, load_settings
from assistant.store.db import make_engine, normalize_url
from assistant.web.sessions import SECURE_SESSION_COOKIE, SESSION_COOKIE, read_session, sender_for
from tests.conftest import MODEL_PATH
from tests.conversation import Conversation
from tests.production_services import (
    available,
    postgres_admin_url,
    postgres_conninfo,
    rabbitmq_test_url,
    redis_test_url,
    require,
)


def _execute(conninfo: str, statement: sql.Composable) -> None:
    with psycopg.connect(conninfo, autocommit=True, connect_timeout=5) as connection:
        connection.execute(statement)


def fresh_database(config: pytest.Config, purpose: str) -> str:
    """A new empty PostgreSQL database, dropped when the session ends; its URL (psycopg 3)."""
    conninfo = postgres_conninfo()
    name = f"topo_prod_{uuid.uuid4().hex[:10]}_{purpose}"
    _execute(conninfo, sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    config.add_cleanup(lambda: _execute(conninfo, sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))))
    admin = normalize_url(postgres_admin_url())
    return admin.set(database=name).render_as_string(hide_password=False)


def _delete_broker_objects(exchange: str, queue: str) -> None:
    async def delete() -> None:
        connection = await aio_pika.connect(rabbitmq_test_url(), timeout=5)
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
        "SHOP_REDIS_URL": redis_test_url(),
        "SHOP_RABBITMQ_URL": rabbitmq_test_url(),
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
    if available("RabbitMQ"):
        _delete_broker_objects(exchange, queue)


@pytest.fixture(scope="session")
def production_stack(production_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ProductionStack]:
    """Two replicas of each server behind HAProxy, on free loopback ports, shared by the
    session's production tests (the ledger and the full restart leave it running)."""
    require("HAProxy")
    if not MODEL_PATH.exists():
        pytest.fail(f"no trained model at {MODEL_PATH}; `make test-prod` trains it first")
    logs = tmp_path_factory.mktemp("production-logs")
    with running_production(production_settings, MODEL_PATH, replicas=2, fronts=FrontPorts.free(), log_dir=logs) as stack:
        warm(stack, production_settings, searches=2)
        yield stack


def warm(stack: ProductionStack, settings: Settings, searches: int = 0) -> None:
    """A first turn straight to each Rasa replica with a long time-out (and searches, which load
    the catalog in the action servers the balancer picks): on this loaded machine a first parse
    after start-up can outlast the web app's 30 s, which is not what these tests test."""
    for number, ports in enumerate(stack.replicas):
        chat = Conversation(f"http://127.0.0.1:{ports.rasa}", settings.gateway_token, f"warm-up-{number}")
        chat.say("hello", timeout=900)
        for _ in range(searches):
            chat.say("show me tents", timeout=900)


@asynccontextmanager
async def browser(stack: ProductionStack, source: str = "127.0.0.1") -> AsyncIterator[aiohttp.ClientSession]:
    """A shopper's browser at the balancer's door, connecting from ``source`` (127.0.0.0/8 is all loopback)."""
    connector = aiohttp.TCPConnector(local_addr=(source, 0), force_close=True)
    jar = aiohttp.CookieJar(unsafe=True)  # cookies for an IP-address host, as a browser keeps them
    async with aiohttp.ClientSession(stack.url, connector=connector, cookie_jar=jar,
                                     timeout=aiohttp.ClientTimeout(total=300)) as session:
        yield session


def tracker_rows(settings: Settings, sender: str) -> int:
    """Rows of Rasa's SQL tracker store (table ``events``) for one conversation."""
    engine = make_engine(settings.tracker_database_url)
    try:
        with engine.connect() as connection:
            return int(connection.scalar(text("SELECT count(*) FROM events WHERE sender_id = :s"), {"s": sender}) or 0)
    finally:
        engine.dispose()


def guest_sender(session: aiohttp.ClientSession, settings: Settings) -> str:
    """The Rasa sender id the web app derived from this browser's session cookie."""
    cookie = next(c for c in session.cookie_jar if c.key in (SESSION_COOKIE, SECURE_SESSION_COOKIE))
    session_id = read_session(cookie.value, settings.web_secret)
    assert session_id is not None
    return sender_for(session_id, None, settings.web_secret)
