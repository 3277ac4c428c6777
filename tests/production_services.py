"""The real PostgreSQL, Redis and RabbitMQ of the production-profile tests, or a skip saying which is missing.

PostgreSQL comes from ``SHOP_TEST_POSTGRES_URL`` (an account that may create databases),
Redis from ``SHOP_TEST_REDIS_URL`` (db 2 by default, this suite's own), RabbitMQ from
``SHOP_TEST_RABBITMQ_URL`` (the local guest account by default). Each is probed once per
session; :func:`require` skips a test that needs an absent one with a sentence saying
which and where. Every test names its own keys, channels and exchanges (:func:`unique`),
so parallel runs and other users of these shared servers are left alone.
"""

from __future__ import annotations

import os
import secrets
import shutil
from pathlib import Path

import pytest

from assistant.store.db import normalize_url
from bench.production_scratch import unreachable

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/2"
DEFAULT_RABBITMQ_URL = "amqp://guest:guest@127.0.0.1:5672/"
VARIABLES = {"PostgreSQL": "SHOP_TEST_POSTGRES_URL", "Redis": "SHOP_TEST_REDIS_URL", "RabbitMQ": "SHOP_TEST_RABBITMQ_URL"}

_probed: dict[str, str | None] = {}


def redis_test_url() -> str:
    return os.environ.get("SHOP_TEST_REDIS_URL", DEFAULT_REDIS_URL)


def rabbitmq_test_url() -> str:
    return os.environ.get("SHOP_TEST_RABBITMQ_URL", DEFAULT_RABBITMQ_URL)


def postgres_admin_url() -> str:
    """The PostgreSQL account's URL (psycopg 3 driver), which creates this session's databases."""
    return normalize_url(os.environ.get("SHOP_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)).render_as_string(hide_password=False)


def postgres_conninfo() -> str:
    """The same account as a libpq connection string, for psycopg directly."""
    return normalize_url(postgres_admin_url()).set(drivername="postgresql").render_as_string(hide_password=False)


def unique(name: str) -> str:
    """A name no other test run uses (Redis channels and RabbitMQ exchanges are server-wide)."""
    return f"test-{name}-{secrets.token_hex(4)}"


def _probe(name: str) -> str | None:
    """None when the service answers, else why not (probed once per session)."""
    if name not in _probed:
        if name == "HAProxy":
            found = shutil.which("haproxy") or Path("/usr/sbin/haproxy").exists()
            _probed[name] = None if found else "not installed (make haproxy)"
        else:
            url = {"PostgreSQL": postgres_admin_url, "Redis": redis_test_url, "RabbitMQ": rabbitmq_test_url}[name]()
            _probed[name] = unreachable(name, url)
    return _probed[name]


def available(name: str) -> bool:
    return _probe(name) is None


def require(*services: str) -> None:
    """Skip the calling test with a plain message unless every named service answers
    (PostgreSQL, Redis, RabbitMQ, HAProxy)."""
    for name in services:
        problem = _probe(name)
        if problem is not None:
            where = f" (set {VARIABLES[name]} to point at one)" if name in VARIABLES else ""
            pytest.skip(f"{name} is not available for the production tests: {problem}{where}")
