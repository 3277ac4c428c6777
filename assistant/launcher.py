"""Start the three processes of the stack, wait until each is healthy, stop them cleanly.

Used by ``shop-assistant up`` (and so ``make demo``) and by the integration tests, so the
tests start the servers exactly the way a user does.  Rasa runs from ``.venv-rasa``
(Python 3.10); the action server and the web app run from the interpreter running this
module.  Secrets are handed to the children through their environment only.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from assistant.private_files import private_file
from assistant.settings import PROJECT_ROOT, Settings

RASA_BIN = PROJECT_ROOT / ".venv-rasa" / "bin" / "rasa"


class StackError(RuntimeError):
    """A service did not start or did not become healthy; the message says which and why."""


LOOPBACK_ADDRESSES = frozenset({"127.0.0.1", "localhost", "::1"})


def require_loopback_for_demo(host: str, demo_mode: bool) -> None:
    """Refuse ``--demo`` on any address but loopback: the demo page signs a customer token
    for anyone who asks (``/?login=demo``), which must never be reachable from a network."""
    if demo_mode and host.strip().strip("[]").lower() not in LOOPBACK_ADDRESSES:
        raise StackError(
            f"--demo serves a page that logs anyone in as the demo customer, so it only binds to "
            f"loopback (127.0.0.1, ::1), not {host!r}; unset SHOP_WEB_HOST or drop --demo"
        )


@dataclass(frozen=True)
class Ports:
    action_server: int = 5055
    rasa: int = 5005
    web: int = 8080

    @classmethod
    def free(cls) -> Ports:
        """Three free loopback ports, for tests that must not collide with a running demo."""
        return cls(free_port(), free_port(), free_port())


DEFAULT_PORTS = Ports()


@dataclass
class Service:
    name: str
    command: list[str] = field(repr=False)
    health_url: str
    log_path: Path
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    started_at: float = 0.0  # time.monotonic() at start
    healthy_seconds: float | None = None  # from start until its health URL answered (bench/startup_bench.py)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def child_environment(settings: Settings, ports: Ports) -> dict[str, str]:
    """The environment every child gets: one store, one set of secrets, loopback URLs."""
    env = dict(os.environ)
    env.update(
        SHOP_DATA_DIR=str(settings.data_dir),
        SHOP_DATABASE_URL=settings.database_url,
        SHOP_EMBEDDING_MODEL=settings.embedding_model,
        SHOP_EMBED_BACKEND=settings.embed_backend,
        SHOP_EMBED_ONNX_DIR=str(settings.embed_onnx_dir or ""),
        SHOP_STORE_SECRET=settings.store_secret,
        SHOP_POLICY_FILE=str(settings.policy_file),
        RASA_AUTH_TOKEN=settings.rasa_token,
        ACTION_SERVER_TOKEN=settings.action_server_token,
        GATEWAY_TOKEN=settings.gateway_token,
        SHOP_WEB_SECRET=settings.web_secret,
        SHOP_STOREFRONT_KEY=settings.storefront_key,
        SHOP_RASA_URL=f"http://127.0.0.1:{ports.rasa}",
        ACTION_ENDPOINT_URL=f"http://127.0.0.1:{ports.action_server}/webhook",
        SHOP_WEB_PORT=str(ports.web),
        SHOP_ALLOWED_ORIGINS=",".join(settings.allowed_origins),
        SHOP_ALLOWED_HOSTS=",".join(settings.allowed_hosts),
        SHOP_TOKEN_MAX_TTL=str(settings.token_max_ttl),
        SHOP_REDIS_URL=settings.redis_url,
        SHOP_RATE_LIMIT_EXEMPT=",".join(settings.rate_limit_exempt),
        # Production topology (issue #11): the profile and the shared services every replica uses.
        SHOP_PROFILE=settings.profile,
        SHOP_TRACKER_DATABASE_URL=settings.tracker_database_url,
        SHOP_RABBITMQ_URL=settings.rabbitmq_url,
        SHOP_RABBITMQ_EXCHANGE=settings.rabbitmq_exchange,
        SHOP_RABBITMQ_ANALYTICS_QUEUE=settings.rabbitmq_analytics_queue,
        SHOP_TRUSTED_PROXIES=",".join(str(network) for network in settings.trusted_proxies),
        SHOP_GUEST_TRACKER_DAYS=str(settings.guest_tracker_days),
        # Store backend (issue 17): the web app delivers the outbox, the action server builds cart links.
        SHOP_BACKEND=settings.backend,
        SHOP_BACKEND_WEBHOOK_URL=settings.backend_webhook_url,
        SHOP_WEBHOOK_SECRET=settings.webhook_secret,
        SHOP_BACKEND_INTERVAL_SECONDS=str(settings.backend_interval_seconds),
        SHOP_BACKEND_RETRY_BASE_SECONDS=str(settings.backend_retry_base_seconds),
        SHOP_BACKEND_RETRY_MAX_SECONDS=str(settings.backend_retry_max_seconds),
        SHOP_CART_LINK_TEMPLATE=settings.cart_link_template,
        SHOP_METRICS_TOKEN=settings.metrics_token,
        SHOP_ANALYTICS_INTERVAL_SECONDS=str(settings.analytics_interval_seconds),
        SHOP_LOG_FORMAT=settings.log_format,
        SANIC_HOST="127.0.0.1",  # rasa-sdk binds 0.0.0.0 unless told otherwise
        PYTHONUNBUFFERED="1",
        TF_CPP_MIN_LOG_LEVEL="2",
        # As in deploy/rasa.Dockerfile: no usage reports leave the machine, and Rasa's start skips the second
        # unpacking of the whole model archive its start-up report does for a fingerprint (1.7 s of 10 profiled, #15.5).
        RASA_TELEMETRY_ENABLED="false",
        SQLALCHEMY_SILENCE_UBER_WARNING="1",
    )
    return env


def services(
    settings: Settings, model_path: Path, ports: Ports, log_dir: Path, demo_mode: bool,
    credentials: Path = PROJECT_ROOT / "credentials.yml", endpoints: Path = PROJECT_ROOT / "endpoints.yml",
) -> list[Service]:
    """The three services (started together, see :func:`running_stack`): actions, Rasa, web."""
    python = sys.executable
    web_command = [python, "-m", "assistant.cli", "web", "--port", str(ports.web)]
    if demo_mode:
        web_command.append("--demo")
    return [
        Service(
            "action server",
            [python, "-m", "rasa_sdk", "--actions", "actions", "--port", str(ports.action_server)],
            f"http://127.0.0.1:{ports.action_server}/health",
            log_dir / "actions.log",
        ),
        Service(
            "rasa server",
            [
                # rasa_addons.rasa_server: `rasa run` with the API token from RASA_AUTH_TOKEN, not argv.
                str(RASA_BIN.parent / "python"), "-m", "rasa_addons.rasa_server", "--enable-api",
                "--interface", "127.0.0.1", "--port", str(ports.rasa),
                "--model", str(model_path), "--credentials", str(credentials),
                "--endpoints", str(endpoints),
            ],
            f"http://127.0.0.1:{ports.rasa}/",
            log_dir / "rasa.log",
        ),
        # The web app is up when it answers /healthz. Not /readyz: with the customer store down it must
        # still start and serve the chat honestly (its /readyz then says which part is missing).
        Service("web app", web_command, f"http://127.0.0.1:{ports.web}/healthz", log_dir / "web.log"),
    ]


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def _start(service: Service, env: dict[str, str]) -> None:
    log = private_file(service.log_path).open("ab")  # logs hold conversations: mode 600
    service.started_at = time.monotonic()
    service.process = subprocess.Popen(
        service.command, cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )


def wait_healthy(service: Service, timeout: float) -> None:
    """Wait until ``service`` answers its health URL; :class:`StackError` if it exits or times out."""
    wait_all_healthy([service], timeout)


def wait_all_healthy(group: list[Service], timeout: float) -> None:
    """Wait until every service of ``group`` answers its health URL, checking them in turn so that each
    one's ``healthy_seconds`` is its own, not the slowest one's before it."""
    deadline = time.monotonic() + timeout
    pending = list(group)
    while pending and time.monotonic() < deadline:
        for service in list(pending):
            assert service.process is not None
            if service.process.poll() is not None:
                tail = service.log_path.read_text(errors="replace")[-3000:]
                raise StackError(f"{service.name} exited with code {service.process.returncode}:\n{tail}")
            if _healthy(service.health_url):
                service.healthy_seconds = time.monotonic() - service.started_at
                pending.remove(service)
        if pending:
            time.sleep(0.5)
    if pending:
        service = pending[0]
        raise StackError(f"{service.name} did not answer {service.health_url} within {timeout:.0f} s; see {service.log_path}")


def start_together(group: list[Service], env: dict[str, str], timeout: float, started: list[Service]) -> None:
    """Start every service of ``group`` at once (replicas load their models side by side),
    adding each to ``started`` so a failure stops them all, then wait until each is healthy."""
    for service in group:
        _start(service, env)
        started.append(service)
    wait_all_healthy(group, timeout)


def stop(running: list[Service], grace: float = 10.0) -> None:
    """SIGTERM each process group (reverse start order), then SIGKILL what is left."""
    for service in reversed(running):
        if service.process and service.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(service.process.pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    for service in reversed(running):
        if not service.process:
            continue
        try:
            service.process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(service.process.pid, signal.SIGKILL)
            service.process.wait()


@contextlib.contextmanager
def running_stack(
    settings: Settings,
    model_path: Path,
    ports: Ports = DEFAULT_PORTS,
    log_dir: Path | None = None,
    demo_mode: bool = False,
    timeout: float = 600.0,  # Rasa loads its model in minutes on a loaded machine
    only: tuple[str, ...] | None = None,
    credentials: Path = PROJECT_ROOT / "credentials.yml",
) -> Iterator[list[Service]]:
    """Start the services (or ``only`` those named), yield them healthy, always stop them.

    ``credentials`` is Rasa's channel configuration (a test can enable a messaging channel).
    """
    if not RASA_BIN.exists():
        raise StackError(f"{RASA_BIN} is missing: run `make install` first")
    if not model_path.exists():
        raise StackError(f"no trained Rasa model at {model_path}: run `make model` first")
    require_loopback_for_demo(settings.web_host, demo_mode)
    env = child_environment(settings, ports)
    started: list[Service] = []
    try:
        log_path = log_dir or settings.data_dir / "logs"
        # All at once: Rasa needs the action server only when a turn runs an action, and the web app
        # Rasa only when a message arrives, so the action server and web app load while Rasa loads its
        # model (ready in the slowest one's time, not the sum; #15.5).
        chosen = [service for service in services(settings, model_path, ports, log_path, demo_mode, credentials)
                  if not only or service.name in only]
        start_together(chosen, env, timeout, started)
        yield started
    finally:
        stop(started)
