"""The production profile's settings (issue #11): secrets and services from the environment
or a refusal naming every missing variable; no per-checkout secret generated."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from assistant.settings import PROJECT_ROOT, SECRET_NAMES, ConfigurationError, load_settings

PRODUCTION_ENV = {
    **{name: f"{name.lower()}-value" for name in SECRET_NAMES},
    "SHOP_PROFILE": "production",
    "SHOP_DATABASE_URL": "postgresql+psycopg://shop:pw@db.internal:5432/shop",
    "SHOP_TRACKER_DATABASE_URL": "postgresql://rasa:pw@db.internal:5432/rasa",
    "SHOP_REDIS_URL": "redis://redis.internal:6379/0",
    "SHOP_RABBITMQ_URL": "amqp://shop:pw@mq.internal:5672/",
    "SHOP_EMBEDDING_MODEL": "unused",
}


def test_production_refuses_naming_every_missing_variable(tmp_path: Path) -> None:
    env = {k: v for k, v in PRODUCTION_ENV.items() if k not in ("GATEWAY_TOKEN", "SHOP_WEB_SECRET", "SHOP_REDIS_URL")}
    with pytest.raises(ConfigurationError) as refused:
        load_settings(tmp_path, env=env)
    message = str(refused.value)
    assert "\n" not in message
    for name in ("GATEWAY_TOKEN", "SHOP_WEB_SECRET", "SHOP_REDIS_URL"):
        assert name in message
    assert "SHOP_STORE_SECRET" not in message


def test_production_keeps_customers_in_postgresql(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="PostgreSQL"):
        load_settings(tmp_path, env={**PRODUCTION_ENV, "SHOP_DATABASE_URL": f"sqlite:///{tmp_path}/c.db"})


def test_production_takes_everything_from_the_environment(tmp_path: Path) -> None:
    settings = load_settings(tmp_path, env=PRODUCTION_ENV)
    assert settings.profile == "production" and settings.web_secret == "shop_web_secret-value"
    assert settings.rabbitmq_exchange == "rasa-exchange" and settings.guest_tracker_days == 30
    assert "pw" not in repr(settings)


def test_the_profile_argument_wins_and_unknown_profiles_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="set "):
        load_settings(tmp_path, env={"SHOP_EMBEDDING_MODEL": "unused"}, profile="production")
    with pytest.raises(ConfigurationError, match="SHOP_PROFILE"):
        load_settings(tmp_path, env={"SHOP_PROFILE": "staging"})
    with pytest.raises(ConfigurationError, match="SHOP_TRUSTED_PROXIES"):
        load_settings(tmp_path, env={"SHOP_TRUSTED_PROXIES": "10.0.0.0/33", "SHOP_EMBEDDING_MODEL": "unused"})


@pytest.mark.parametrize(("command", "profile"), [(["web"], "production"), (["up", "--profile", "production"], "demo")])
def test_the_cli_refuses_to_start_without_secrets(tmp_path: Path, command: list[str], profile: str) -> None:
    """``shop-assistant web`` (SHOP_PROFILE=production) or ``up --profile production`` with no
    secrets: one clear line, exit 2, nothing started."""
    env = {"PATH": "/usr/bin:/bin", "SHOP_PROFILE": profile, "SHOP_EMBEDDING_MODEL": "unused",
           "SHOP_DATA_DIR": str(tmp_path)}
    done = subprocess.run([sys.executable, "-m", "assistant.cli", *command], cwd=PROJECT_ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert done.stderr.startswith("error: the production profile") and "SHOP_STORE_SECRET" in done.stderr
    assert "Traceback" not in done.stderr


def test_rasa_stores_are_derived_from_the_service_urls(tmp_path: Path) -> None:
    """endpoints.production.yml's ${VAR}s, split from the three URLs (a password may be URL-quoted)."""
    from assistant.production_plan import rasa_environment

    env = {**PRODUCTION_ENV, "SHOP_TRACKER_DATABASE_URL": "postgresql://rasa:p%40ss@db.internal:6543/tracker",
           "SHOP_REDIS_URL": "redis://:r-pw@cache.internal/3", "SHOP_RABBITMQ_URL": "amqp://mq.internal/"}
    derived = rasa_environment(load_settings(tmp_path, env=env))
    assert (derived["RASA_TRACKER_DB_HOST"], derived["RASA_TRACKER_DB_PORT"], derived["RASA_TRACKER_DB_NAME"]) == (
        "db.internal", "6543", "tracker")
    assert (derived["RASA_TRACKER_DB_USER"], derived["RASA_TRACKER_DB_PASSWORD"]) == ("rasa", "p@ss")
    assert (derived["RASA_LOCK_REDIS_HOST"], derived["RASA_LOCK_REDIS_PORT"], derived["RASA_LOCK_REDIS_DB"],
            derived["RASA_LOCK_REDIS_PASSWORD"]) == ("cache.internal", "6379", "3", "r-pw")
    assert (derived["RASA_BROKER_HOST"], derived["RASA_BROKER_PORT"], derived["RASA_BROKER_USER"]) == (
        "mq.internal", "5672", "guest")
    assert derived["RASA_BROKER_EXCHANGE"] == "rasa-exchange" and derived["RASA_BROKER_QUEUE"] == "shop_analytics"


def test_every_variable_of_endpoints_production_is_derived(tmp_path: Path) -> None:
    import re

    from assistant.production_plan import FrontPorts, production_environment

    lines = (PROJECT_ROOT / "endpoints.production.yml").read_text().splitlines()
    wanted = {name for line in lines for name in re.findall(r"\$\{(\w+)\}", line.partition("#")[0])}
    provided = production_environment(load_settings(tmp_path, env=PRODUCTION_ENV), FrontPorts())
    assert wanted and wanted <= set(provided), wanted - set(provided)
