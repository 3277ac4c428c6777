"""The production profile's session fixtures for ``pytest -m production`` (make test-prod).

Every test session gets its own PostgreSQL databases, RabbitMQ exchange and analytics
queue, and secrets (bench/production_scratch.py, shared with the replica load bench), so
it runs beside other sessions on shared servers; finding the services (and skipping
without them) is :mod:`tests.production_services`. One stack of two replicas of each server
behind HAProxy serves the whole session.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager

import aiohttp
import pytest
from sqlalchemy import text

from assistant.production_plan import FrontPorts, ProductionStack, running_production
from assistant.rasa_conversation import Conversation
from assistant.settings import Settings
from assistant.store.db import make_engine
from assistant.web.sessions import SECURE_SESSION_COOKIE, SESSION_COOKIE, read_session, sender_for
from bench.production_scratch import create_database, drop_database, scratch_production
from tests.conftest import MODEL_PATH
from tests.production_services import postgres_admin_url, rabbitmq_test_url, redis_test_url, require


def fresh_database(config: pytest.Config, purpose: str) -> str:
    """A new empty PostgreSQL database, dropped when the session ends; its URL (psycopg 3)."""
    name, url = create_database(postgres_admin_url(), purpose)
    config.add_cleanup(lambda: drop_database(postgres_admin_url(), name))
    return url


@pytest.fixture(scope="session")
def production_settings(demo_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """The demo store's catalog and index with its history imported into a fresh PostgreSQL
    customer store, a fresh tracker database, this session's exchange and analytics queue."""
    require("PostgreSQL", "Redis", "RabbitMQ")
    with scratch_production(
        demo_settings, tmp_path_factory.mktemp("production-store"), postgres_admin_url(), redis_test_url(),
        rabbitmq_test_url(),
        # 127.0.0.2 stands for the TLS-terminating proxy in front of the balancer (loopback is 127/8)
        SHOP_TRUSTED_PROXIES="127.0.0.2",
    ) as settings:
        yield settings


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
