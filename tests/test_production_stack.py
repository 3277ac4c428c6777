"""The production profile (issue #11) on real PostgreSQL, Redis and RabbitMQ: `make test-prod`.

Two replicas of each server behind HAProxy, started by the same code as
``shop-assistant up --profile production --replicas 2``; shoppers talk to the balancer's
public door as a browser does. Covered: a conversation that outlives every Rasa process,
forwarded https believed only from a trusted proxy, tracker rows deleted by erasure and
by the guest-retention job, and the refusals (schema behind, no secrets).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import select

from assistant.identity import sign_customer_token
from assistant.launcher import Ports, child_environment
from assistant.production_plan import ProductionStack
from assistant.rasa_conversation import product_ids, texts
from assistant.settings import PROJECT_ROOT, Settings
from assistant.store.db import SchemaBehind, make_engine, require_current_schema
from assistant.store.models import Customer
from assistant.tracker_retention import prune_idle_guests
from assistant.web.sessions import SECURE_SESSION_COOKIE, SESSION_COOKIE, sender_for
from bench.production_scratch import production_env
from tests.production_fixtures import browser, fresh_database, guest_sender, tracker_rows, warm
from tests.production_services import rabbitmq_test_url, redis_test_url, require
from tests.test_conversations import is_hiking_footwear

pytestmark = pytest.mark.production


async def say(session: aiohttp.ClientSession, message: str, **headers: str) -> list[dict[str, Any]]:
    async with session.post("/api/chat", json={"message": message}, headers=headers) as response:
        body = await response.json()
        assert response.status == 200, body
        return list(body["messages"])


async def test_a_conversation_continues_after_every_rasa_process_restarts(
    production_stack: ProductionStack, production_settings: Settings, catalog: dict[str, dict[str, Any]],
) -> None:
    async with browser(production_stack) as session:
        first = product_ids(await say(session, "waterproof hiking boots under $150"))
        assert first, "the search returned no products"

        production_stack.restart("rasa server")  # both replicas down at once, then back
        warm(production_stack, production_settings)

        async with session.get("/api/history") as response:
            history = (await response.json())["history"]
        said = [turn["text"] for turn in history if turn["from"] == "user"]
        assert said == ["waterproof hiking boots under $150"]
        assert any(turn["from"] == "bot" for turn in history)
        more = product_ids(await say(session, "show more"))
        assert more and not set(more) & set(first), "show more did not page the earlier search"
        for product_id in more:
            assert is_hiking_footwear(catalog[product_id]) and catalog[product_id]["price"] < 150


async def test_forwarded_https_is_believed_from_the_trusted_proxy_only(production_stack: ProductionStack) -> None:
    """127.0.0.2 is the TLS-terminating proxy of SHOP_TRUSTED_PROXIES; 127.0.0.3 is anyone else."""
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "localhost", "Origin": "https://localhost"}
    async with browser(production_stack, "127.0.0.2") as session:
        replies = await say(session, "hello", **forwarded)  # the widget's own POST: accepted
        assert texts(replies)
        cookie = next(c for c in session.cookie_jar if c.key == SECURE_SESSION_COOKIE)
        assert cookie["secure"]
    async with browser(production_stack, "127.0.0.3") as session:
        async with session.post("/api/chat", json={"message": "hello"}, headers=forwarded) as response:
            assert response.status == 403  # https://localhost is not the plain-http origin it came to
        async with session.get("/", headers=forwarded) as page:
            assert page.status == 200
            assert "Strict-Transport-Security" not in page.headers
        cookie = next(c for c in session.cookie_jar if c.key in (SESSION_COOKIE, SECURE_SESSION_COOKIE))
        assert cookie.key == SESSION_COOKIE and not cookie["secure"]


async def test_erasing_a_customer_deletes_their_tracker_rows(
    production_stack: ProductionStack, production_settings: Settings,
) -> None:
    settings = production_settings
    customer_id = first_customer(settings)
    token = sign_customer_token(customer_id, settings.store_secret)
    sender = sender_for("unused", customer_id, settings.web_secret)
    auth = {"Authorization": f"Bearer {token}"}
    async with browser(production_stack) as session:
        await say(session, "show me hiking boots", **auth)
        assert tracker_rows(settings, sender) > 0  # Rasa wrote the conversation to PostgreSQL
        question = texts(await say(session, "delete my data", **auth))
        assert "Shall I delete your data?" in question
        done = texts(await say(session, "yes", **auth))
        assert done.startswith("Done. I deleted your history")
    assert tracker_rows(settings, sender) == 0


async def test_idle_guest_conversations_are_pruned_and_customers_kept(
    production_stack: ProductionStack, production_settings: Settings,
) -> None:
    settings = production_settings
    customer_id = first_customer(settings, offset=1)
    customer_sender = sender_for("unused", customer_id, settings.web_secret)
    async with browser(production_stack) as guest:
        await say(guest, "hello")
        guest_id = guest_sender(guest, settings)
    async with browser(production_stack) as customer:
        await say(customer, "hello", Authorization=f"Bearer {sign_customer_token(customer_id, settings.store_secret)}")
    assert tracker_rows(settings, guest_id) > 0 and tracker_rows(settings, customer_sender) > 0

    env = {**child_environment(settings, Ports()), "PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    job = subprocess.run([sys.executable, "-m", "assistant.cli", "tracker", "prune"], cwd=PROJECT_ROOT, env=env,
                         capture_output=True, text=True, timeout=300)
    assert job.returncode == 0, job.stderr
    assert "deleted 0 guest conversation(s) idle for more than 30 days" in job.stdout  # nothing is that old yet
    assert tracker_rows(settings, guest_id) > 0

    later = time.time() + (settings.guest_tracker_days + 1) * 24 * 3600
    assert prune_idle_guests(settings.tracker_database_url, settings.guest_tracker_days, now=later) >= 1
    assert tracker_rows(settings, guest_id) == 0
    assert tracker_rows(settings, customer_sender) > 0


def test_the_web_app_refuses_a_schema_behind_until_db_migrate(pytestconfig: pytest.Config, tmp_path: Path) -> None:
    """Production never migrates on start: the web app names the command that does."""
    require("PostgreSQL")
    database = fresh_database(pytestconfig, "schema")
    env = {**production_env(tmp_path, database, database, redis_test_url(), rabbitmq_test_url(), "unused", "unused"),
           "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "SHOP_EMBEDDING_MODEL": "unused"}
    web = subprocess.run([sys.executable, "-m", "assistant.cli", "web", "--port", "1"], cwd=PROJECT_ROOT, env=env,
                         capture_output=True, text=True, timeout=300)
    assert web.returncode != 0
    assert "run `shop-assistant db migrate` first" in web.stderr and "Traceback" not in web.stderr
    with pytest.raises(SchemaBehind):
        require_current_schema(database)
    migrate = subprocess.run([sys.executable, "-m", "assistant.cli", "db", "migrate"], cwd=PROJECT_ROOT, env=env,
                             capture_output=True, text=True, timeout=300)
    assert migrate.returncode == 0, migrate.stderr
    require_current_schema(database)


def first_customer(settings: Settings, offset: int = 0) -> str:
    engine = make_engine(settings.database_url)
    try:
        with engine.connect() as connection:
            return str(connection.scalars(select(Customer.id).order_by(Customer.id).offset(offset).limit(1)).one())
    finally:
        engine.dispose()

