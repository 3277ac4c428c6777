"""``shop-assistant up --profile production --replicas N``: N of each server behind HAProxy.

The same three processes as the demo (assistant/launcher.py), each started N times on
loopback ports, every Rasa replica on ``endpoints.production.yml`` (conversations in the
PostgreSQL tracker store, locks in Redis, events to RabbitMQ) so any replica serves any
conversation, and one HAProxy (assistant/load_balancer.py) in front of each pool:

    browser ──▶ HAProxy :8080 ──▶ web 1..N ──▶ HAProxy :5005 ──▶ rasa 1..N ──▶ HAProxy :5055 ──▶ actions 1..N

Start order: the customer store's schema (the one migration step, as a deploy job would
run it), the action servers together, one Rasa server alone (it creates the tracker
tables; several at once would race), the other Rasa servers together, the web apps
together, then HAProxy, whose ``/lb-health`` answers once every pool has a live replica.
Stopping is the launcher's: SIGTERM in reverse order, SIGKILL after a grace period.
"""

from __future__ import annotations

import contextlib
import dataclasses
import shutil
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from assistant.launcher import (
    RASA_BIN,
    Ports,
    Service,
    StackError,
    child_environment,
    free_port,
    services,
    start_together,
    stop,
    wait_healthy,
)
from assistant.load_balancer import Pool, haproxy_config
from assistant.private_files import write_private
from assistant.settings import PROJECT_ROOT, Settings

PRODUCTION_ENDPOINTS = PROJECT_ROOT / "endpoints.production.yml"
RASA_LOCK_KEY_PREFIX = "shop"  # Rasa wants it alphanumeric


@dataclass(frozen=True)
class FrontPorts:
    """The balancer's doors: the public web port and the internal Rasa, actions and monitor ports."""

    web: int = 8080
    rasa: int = 5005
    actions: int = 5055
    monitor: int = 8404

    @classmethod
    def free(cls) -> FrontPorts:
        """Free loopback ports, for tests beside a running stack."""
        return cls(free_port(), free_port(), free_port(), free_port())


@dataclass
class ProductionStack:
    """The running topology: every service, the environment they share, where to reach it."""

    fronts: FrontPorts
    replicas: list[Ports]
    services: list[Service]
    env: dict[str, str] = field(repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.fronts.web}"

    def named(self, prefix: str) -> list[Service]:
        """The services whose name starts with ``prefix`` ("rasa server", "web app 2", ...)."""
        return [service for service in self.services if service.name.startswith(prefix)]

    def restart(self, prefix: str, timeout: float = 900.0) -> None:
        """Stop every service named ``prefix`` at once, then start them together again
        (a restart of "rasa server" loses every Rasa process at the same moment); returns
        once the balancer has a live replica in every pool again."""
        group = self.named(prefix)
        stop(group)
        start_together(group, self.env, timeout, [])
        for balancer in self.named("load balancer"):  # until HAProxy's checks have seen them back
            wait_healthy(balancer, timeout)

    def restart_all(self, timeout: float = 900.0) -> None:
        """Stop every process (balancer included), then start them again in the order of the
        first start, as after a host's reboot; returns when the balancer is healthy again."""
        stop(self.services)
        for kind in ("action server", "rasa server", "web app", "load balancer"):
            start_together(self.named(kind), self.env, timeout, [])


def _split(url: str, default_port: int) -> tuple[str, str, str, str, str]:
    """host, port, user, password and path (without its slash) of a service URL."""
    parts = urllib.parse.urlsplit(url)
    return (
        parts.hostname or "127.0.0.1", str(parts.port or default_port),
        urllib.parse.unquote(parts.username or ""), urllib.parse.unquote(parts.password or ""),
        parts.path.lstrip("/"),
    )


def rasa_environment(settings: Settings) -> dict[str, str]:
    """The ``${VAR}``s of endpoints.production.yml, from the three service URLs."""
    db_host, db_port, db_user, db_password, db_name = _split(settings.tracker_database_url, 5432)
    redis_host, redis_port, _, redis_password, redis_db = _split(settings.redis_url, 6379)
    mq_host, mq_port, mq_user, mq_password, _ = _split(settings.rabbitmq_url, 5672)
    if not db_name:
        raise StackError("SHOP_TRACKER_DATABASE_URL names no database (postgresql://user:pw@host:port/DATABASE)")
    return {
        "RASA_TRACKER_DB_HOST": db_host, "RASA_TRACKER_DB_PORT": db_port, "RASA_TRACKER_DB_NAME": db_name,
        "RASA_TRACKER_DB_USER": db_user, "RASA_TRACKER_DB_PASSWORD": db_password,
        "RASA_LOCK_REDIS_HOST": redis_host, "RASA_LOCK_REDIS_PORT": redis_port,
        "RASA_LOCK_REDIS_DB": redis_db or "0", "RASA_LOCK_REDIS_PASSWORD": redis_password,
        "RASA_LOCK_KEY_PREFIX": RASA_LOCK_KEY_PREFIX,
        "RASA_BROKER_HOST": mq_host, "RASA_BROKER_PORT": mq_port,
        "RASA_BROKER_USER": mq_user or "guest", "RASA_BROKER_PASSWORD": mq_password or "guest",
        "RASA_BROKER_EXCHANGE": settings.rabbitmq_exchange, "RASA_BROKER_QUEUE": settings.rabbitmq_analytics_queue,
    }


def production_environment(settings: Settings, fronts: FrontPorts) -> dict[str, str]:
    """Every child's environment: the demo's, the balancer's doors as the Rasa and action
    URLs, the balancer (loopback) as a trusted proxy of the web apps, and Rasa's stores."""
    env = child_environment(settings, Ports(fronts.actions, fronts.rasa, fronts.web))
    trusted = ["127.0.0.1/32", *(str(network) for network in settings.trusted_proxies)]
    env.update(SHOP_TRUSTED_PROXIES=",".join(dict.fromkeys(trusted)), **rasa_environment(settings))
    return env


def replica_groups(settings: Settings, model_path: Path, replicas: list[Ports], log_dir: Path) -> list[list[Service]]:
    """The replicas in start groups: actions, the first Rasa, the other Rasas, the web apps."""
    by_kind: dict[str, list[Service]] = {}
    for number, ports in enumerate(replicas, start=1):
        for service in services(settings, model_path, ports, log_dir / f"replica-{number}", demo_mode=False,
                                endpoints=PRODUCTION_ENDPOINTS):
            by_kind.setdefault(service.name, []).append(dataclasses.replace(service, name=f"{service.name} {number}"))
    rasa = by_kind["rasa server"]
    return [by_kind["action server"], rasa[:1], rasa[1:], by_kind["web app"]]


def load_balancer(fronts: FrontPorts, replicas: list[Ports], settings: Settings, log_dir: Path) -> Service:
    """HAProxy in the foreground with the configuration written for these replicas."""
    haproxy = shutil.which("haproxy") or next(
        (str(path) for path in (Path("/usr/sbin/haproxy"), Path("/usr/local/sbin/haproxy")) if path.exists()), None
    )
    if haproxy is None:
        raise StackError("HAProxy is not installed: run `make haproxy` (or `sudo apt-get install haproxy`)")
    config = haproxy_config(
        [
            Pool("web", fronts.web, "/healthz", tuple(ports.web for ports in replicas),
                 health_host=settings.allowed_hosts[0] if settings.allowed_hosts else "127.0.0.1"),
            Pool("rasa", fronts.rasa, "/", tuple(ports.rasa for ports in replicas)),
            Pool("actions", fronts.actions, "/health", tuple(ports.action_server for ports in replicas)),
        ],
        fronts.monitor, settings.trusted_proxies, bind_host=settings.web_host,
    )
    config_path = log_dir / "haproxy.cfg"
    write_private(config_path, config)
    return Service("load balancer", [haproxy, "-db", "-f", str(config_path)],
                   f"http://127.0.0.1:{fronts.monitor}/lb-health", log_dir / "haproxy.log")


@contextlib.contextmanager
def running_production(
    settings: Settings, model_path: Path, replicas: int = 2, fronts: FrontPorts | None = None,
    log_dir: Path | None = None, timeout: float = 900.0,
) -> Iterator[ProductionStack]:
    """Migrate the customer store, start the replicas and the balancer, yield them healthy, always stop them."""
    from assistant.store.db import migrate

    if settings.profile != "production":
        raise StackError("the replicated stack runs the production profile: set SHOP_PROFILE=production or --profile production")
    if replicas < 1:
        raise StackError("--replicas must be at least 1")
    if not RASA_BIN.exists():
        raise StackError(f"{RASA_BIN} is missing: run `make install` first")
    if not model_path.exists():
        raise StackError(f"no trained Rasa model at {model_path}: run `make model` first")
    fronts = fronts or FrontPorts()
    log_dir = log_dir or settings.data_dir / "logs"
    ports = [Ports.free() for _ in range(replicas)]
    env = production_environment(settings, fronts)
    balancer = load_balancer(fronts, ports, settings, log_dir)
    migrate(settings.database_url)  # the schema's one owner, as `shop-assistant db migrate`
    started: list[Service] = []
    try:
        for group in [*replica_groups(settings, model_path, ports, log_dir), [balancer]]:
            start_together(group, env, timeout, started)
        for service in started:
            # A web app is ready once Rasa and the action servers answer through the balancer, which
            # starts last; until then it is only alive (/healthz), so readiness is waited for here.
            if service.health_url.endswith("/healthz"):
                wait_healthy(dataclasses.replace(service, health_url=service.health_url.replace("/healthz", "/readyz")),
                             timeout)
        yield ProductionStack(fronts, ports, started, env)
    finally:
        stop(started)
