"""Shared fixtures: a real demo store and the real servers, started as a user starts them.

The catalog and its index are cached in ``var/test-store`` (rebuilt only when stale);
the customer database is fresh for every test session, so tests that cancel orders or
fill carts never see another run's leftovers.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from assistant.settings import PROJECT_ROOT, Settings, load_settings

MODEL_PATH = PROJECT_ROOT / "models" / "current.tar.gz"
TEST_STORE = PROJECT_ROOT / "var" / "test-store"


def always_staffed_policy(directory: Path) -> Path:
    """The store's policy with support staffed around the clock, written into ``directory``.

    Handoff tests need a person to be reachable whatever the hour the suite runs at; the
    out-of-hours path has its own tests with their own hours (``test_handoff_hours.py``).
    """
    policy = yaml.safe_load((PROJECT_ROOT / "store_policy.yml").read_text())
    week = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
    policy["support"]["hours"] = dict.fromkeys(week, "00:00-23:59:59.999999")
    path = directory / "store_policy.yml"
    path.write_text(yaml.safe_dump(policy))
    return path


@pytest.fixture(scope="session")
def demo_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings for the generated demo store with a fresh SQLite customer database."""
    from assistant.demo_setup import set_up_demo_store

    directory = tmp_path_factory.mktemp("store")
    env = {"SHOP_DATABASE_URL": f"sqlite:///{directory / 'customers.db'}",
           "SHOP_POLICY_FILE": str(always_staffed_policy(directory))}
    settings = load_settings(TEST_STORE, env=env)
    set_up_demo_store(settings, progress=False)
    return settings


@pytest.fixture(scope="session")
def catalog(demo_settings: Settings) -> dict[str, dict[str, Any]]:
    """The demo catalog by product id, to check what the bot returned against the truth."""
    with demo_settings.catalog_path.open() as lines:
        products = (json.loads(line) for line in lines if line.strip())
        return {product["id"]: product for product in products}


@pytest.fixture(scope="session")
def stack(demo_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The real action server, Rasa server and web app (demo storefront on) on free loopback ports."""
    from assistant.launcher import Ports, running_stack

    if not MODEL_PATH.exists():
        pytest.fail(f"no trained model at {MODEL_PATH}; `make test` trains it first")
    ports = Ports.free()
    logs = tmp_path_factory.mktemp("logs")
    with running_stack(demo_settings, MODEL_PATH, ports, log_dir=logs, demo_mode=True):
        yield {"settings": demo_settings, "ports": ports, "logs": logs}


@pytest.fixture
def sender() -> str:
    """A fresh conversation id per test."""
    return f"test-{uuid.uuid4().hex[:12]}"


# The production profile's session fixtures, registered here so that every module shares one
# instance of each (a fixture imported into two test modules would be set up once per module:
# two stacks of replicas). Imported last: they use MODEL_PATH from above.
from tests.production_fixtures import production_settings, production_stack  # noqa: E402,F401
