"""Two web app processes on one store, as the production profile runs them (issue #11.2).

Real PostgreSQL, Redis (db 3) and RabbitMQ on loopback, each test with its own exchange; the
replicas are ``shop-assistant web`` processes started the way the launcher starts them.
Checked: an agent session made on one replica is valid on the other and a logout on either
ends it; the login throttle counts across both; a message posted to one replica reaches a
WebSocket on the other; the reminder pass runs once for two replicas; and the broker consumer
and the Redis relay come back after their connection is dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import secrets
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aio_pika
import aiohttp
import pytest
import redis.asyncio
from aiohttp.test_utils import TestServer

from assistant.launcher import Ports, Service, _start, child_environment, free_port, services, stop, wait_healthy
from assistant.settings import Settings, load_settings
from assistant.store.db import UnitOfWork, make_engine, make_session_factory
from assistant.store.models import HandoffRequest
from assistant.web.app import create_app
from assistant.web.console.throttle import MAX_FAILURES_PER_USERNAME
from assistant.web.live.broker import EventConsumer
from assistant.web.live.hub import Hub
from assistant.web.live.relay import RedisRelay
from assistant.web.nudge_task import SlotLock, run_pass
from tests.agent_console import AgentClient, ShopperClient, create_agent, hidden_csrf, next_frame
from tests.conftest import MODEL_PATH, always_staffed_policy
from tests.production_services import rabbitmq_test_url, redis_test_url, require, unique
from tests.store_fixtures import postgres_url  # noqa: F401 (a fixture)
from tests.test_web_gateway import GATEWAY_TOKEN, RASA_TOKEN, STORE_SECRET, WEB_SECRET

pytestmark = pytest.mark.production
READY_TIMEOUT = 120.0


def replica_settings(directory: Path, database_url: str, exchange: str) -> Settings:
    """One store on PostgreSQL with Redis and the broker; no Rasa behind it (these paths need none)."""
    return load_settings(directory, env={
        "SHOP_DATABASE_URL": database_url, "SHOP_REDIS_URL": redis_test_url(),
        "SHOP_RABBITMQ_URL": rabbitmq_test_url(), "SHOP_RABBITMQ_EXCHANGE": exchange,
        "SHOP_RASA_URL": "http://127.0.0.1:9", "SHOP_EMBEDDING_MODEL": "unused-by-these-tests",
        "SHOP_STORE_SECRET": STORE_SECRET, "RASA_AUTH_TOKEN": RASA_TOKEN, "ACTION_SERVER_TOKEN": "unused",
        "GATEWAY_TOKEN": GATEWAY_TOKEN, "SHOP_WEB_SECRET": WEB_SECRET,
        "SHOP_POLICY_FILE": str(always_staffed_policy(directory)),
    })


def replica_environment(settings: Settings, ports: Ports) -> dict[str, str]:
    """The launcher's environment for ``ports`` plus the broker settings (the production launcher's job)."""
    env = child_environment(settings, ports)
    env.update(SHOP_RABBITMQ_URL=settings.rabbitmq_url, SHOP_RABBITMQ_EXCHANGE=settings.rabbitmq_exchange)
    return env


async def wait_for_log(path: Path, *lines: str) -> None:
    """Until the replica's log holds every one of ``lines`` (it subscribed, it is consuming)."""
    async with asyncio.timeout(READY_TIMEOUT):
        while not all(line in path.read_text(errors="replace") for line in lines):
            await asyncio.sleep(0.2)


@contextlib.contextmanager
def web_replicas(settings: Settings, logs: Path, count: int = 2, backends: Ports | None = None) -> Iterator[list[str]]:
    """``count`` web app processes on ``settings``' store; yields their base URLs, always stops them."""
    started: list[Service] = []
    try:
        for n in range(count):
            port = free_port()
            service = Service(
                f"web replica {n}", [sys.executable, "-m", "assistant.cli", "web", "--port", str(port)],
                f"http://127.0.0.1:{port}/healthz", logs / f"web-{n}.log",
            )
            behind = backends or Ports(9, 9, 9)  # nothing listens on port 9: these paths need no Rasa
            _start(service, replica_environment(settings, Ports(behind.action_server, behind.rasa, port)))
            started.append(service)
            wait_healthy(service, READY_TIMEOUT)
        yield [service.health_url.removesuffix("/healthz") for service in started]
    finally:
        stop(started)


@pytest.fixture
async def replicas(postgres_url: str, tmp_path: Path) -> AsyncIterator[tuple[Settings, list[str]]]:  # noqa: F811
    """Two ready web replicas (subscribed to Redis, consuming the broker) and their store's settings."""
    require("Redis")
    require("RabbitMQ")
    settings = replica_settings(tmp_path, postgres_url, unique("exchange"))
    with web_replicas(settings, tmp_path) as urls:
        for n in range(len(urls)):
            await wait_for_log(tmp_path / f"web-{n}.log", "live relay: subscribed", "broker: consuming Rasa's events")
        yield settings, urls


def on(url: str, client: AgentClient | ShopperClient) -> aiohttp.ClientSession:
    """A client of replica ``url`` carrying ``client``'s cookies (the load balancer sent it elsewhere)."""
    return aiohttp.ClientSession(url, cookie_jar=client.http.cookie_jar)


async def test_an_agent_session_made_on_one_replica_is_valid_on_the_other_and_a_logout_ends_it_everywhere(
    replicas: tuple[Settings, list[str]],
) -> None:
    settings, (first, second) = replicas
    agent = AgentClient(first)
    try:
        await agent.login(*create_agent(settings))
        async with on(second, agent) as elsewhere:
            async with elsewhere.get("/agent/api/queue", headers={"X-CSRF-Token": agent.csrf}) as answer:
                assert answer.status == 200, await answer.text()
            form = {"csrf_token": agent.csrf}
            async with elsewhere.post("/agent/logout", data=form, allow_redirects=False) as answer:
                assert answer.status == 303
        # The cookie jar dropped the cookie on logout; replay the old one at the first replica.
        status, _ = await agent.call("GET", "/queue")
        assert status == 401
    finally:
        await agent.close()


async def test_a_stolen_cookie_is_refused_on_every_replica_after_logout(replicas: tuple[Settings, list[str]]) -> None:
    settings, (first, second) = replicas
    agent = AgentClient(first)
    try:
        await agent.login(*create_agent(settings))
        cookie = next(c.value for c in agent.http.cookie_jar if c.key == "sa_agent")
        headers = {"Cookie": f"sa_agent={cookie}", "X-CSRF-Token": agent.csrf}
        async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as thief:
            for url in (first, second):
                async with thief.get(f"{url}/agent/api/queue", headers=headers) as answer:
                    assert answer.status == 200
            async with agent.http.post("/agent/logout", data={"csrf_token": agent.csrf}, allow_redirects=False) as out:
                assert out.status == 303
            for url in (first, second):
                async with thief.get(f"{url}/agent/api/queue", headers=headers) as answer:
                    assert answer.status == 401
    finally:
        await agent.close()


async def test_the_login_throttle_counts_across_replicas(replicas: tuple[Settings, list[str]]) -> None:
    settings, urls = replicas
    username, password = create_agent(settings)

    async def sign_in(url: str, secret: str) -> int:
        async with aiohttp.ClientSession(url, cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
            async with http.get("/agent/login") as page:
                token = hidden_csrf(await page.text())
            form = {"username": username, "password": secret, "csrf_token": token}
            async with http.post("/agent/login", data=form, allow_redirects=False) as answer:
                return answer.status

    for n in range(MAX_FAILURES_PER_USERNAME):  # alternating replicas, as a load balancer would
        assert await sign_in(urls[n % 2], f"wrong-{n}") == 401
    assert await sign_in(urls[0], password) == 429
    assert await sign_in(urls[1], password) == 429


def hold(settings: Settings, sender: str, username: str) -> int:
    """An agent's hold on a web conversation, as a claim leaves it in the store; returns its id."""
    engine = make_engine(settings.database_url)
    try:
        with UnitOfWork(make_session_factory(engine)) as uow:
            agent = uow.agents.by_username(username)
            assert agent is not None
            row = HandoffRequest(sender_id=sender, channel="gateway", status="active", reason="talk_to_human",
                                 claimed_by=agent.id)
            uow.session.add(row)
            uow.commit()
            return int(row.id)
    finally:
        engine.dispose()


async def test_a_message_posted_to_one_replica_reaches_a_websocket_on_the_other(
    replicas: tuple[Settings, list[str]],
) -> None:
    """The shopper's widget is on the first replica, the agent's console on the second: typing
    notices cross both ways through Redis."""
    settings, (first, second) = replicas
    username, password = create_agent(settings)
    agent, shopper = AgentClient(second), ShopperClient(first)
    try:
        await agent.login(username, password)
        assert await shopper.history() == []  # the widget's first call: the shopper gets a session
        stream = await shopper.stream()
        conversation = hold(settings, shopper.sender(settings.web_secret), username)
        async with agent.socket() as console:
            await stream.send_json({"type": "typing", "on": True})
            frame = await next_frame(console, lambda f: f["type"] == "typing")
            assert frame == {"type": "typing", "conversation": conversation, "on": True}
            await console.send_json({"type": "typing", "conversation": conversation, "on": True})
            frame = await next_frame(stream, lambda f: f["type"] == "typing")
            assert frame == {"type": "typing", "from": "agent", "on": True}
        await stream.close()
    finally:
        await agent.close()
        await shopper.close()


async def test_the_reminder_pass_runs_once_for_two_replicas(postgres_url: str, tmp_path: Path) -> None:  # noqa: F811
    require("Redis")
    settings = replica_settings(tmp_path, postgres_url, unique("exchange"))
    replicas = [SlotLock(settings, 60), SlotLock(settings, 60)]
    slot = secrets.randbelow(10**9)  # a slot no other run takes
    try:
        reports = await asyncio.gather(*(run_pass(settings, slot, lock) for lock in replicas))
        assert sum(report is not None for report in reports) == 1
        for lock in replicas:  # a replica waking late in the same slot does not run it again
            assert await run_pass(settings, slot, lock) is None
        reports = await asyncio.gather(*(run_pass(settings, slot + 1, lock) for lock in replicas))
        assert sum(report is not None for report in reports) == 1  # the next slot runs again, once
    finally:
        for lock in replicas:
            await lock.close()


def close_connection_named(name: str) -> None:
    """Drop the RabbitMQ connection this test opened under ``name``, as a broker restart would."""
    listed = subprocess.run(["rabbitmqctl", "-q", "list_connections", "pid", "client_properties"],
                            capture_output=True, text=True, timeout=60)
    if listed.returncode != 0:
        pytest.skip(f"rabbitmqctl cannot list connections here: {listed.stderr.strip()}")
    pids = [line.split("\t", 1)[0] for line in listed.stdout.splitlines() if name in line]
    assert pids, f"no RabbitMQ connection named {name}"
    for pid in pids:
        subprocess.run(["rabbitmqctl", "-q", "close_connection", pid, "test: broker dropped"], check=True,
                       capture_output=True, timeout=60)


async def publish(exchange_name: str, event: dict[str, Any]) -> None:
    """Publish ``event`` the way Rasa's Pika broker does (JSON body, fanout exchange)."""
    connection = await aio_pika.connect(rabbitmq_test_url())
    async with connection:
        channel = await connection.channel()
        exchange = await channel.declare_exchange(exchange_name, aio_pika.ExchangeType.FANOUT)
        await exchange.publish(aio_pika.Message(json.dumps(event).encode()), routing_key="")


async def test_the_event_consumer_reconnects_after_the_broker_drops_it(caplog: pytest.LogCaptureFixture) -> None:
    require("RabbitMQ")
    hub, exchange, name = Hub(), unique("exchange"), unique("consumer")
    consumer = EventConsumer(rabbitmq_test_url(), exchange, hub, name=name)
    task = asyncio.create_task(consumer.run())
    try:
        async with asyncio.timeout(READY_TIMEOUT):
            await consumer.bound.wait()
            hub.wake.clear()
            await publish(exchange, {"event": "user", "sender_id": "s-1", "text": "hello", "timestamp": 1.0})
            await hub.wake.wait()
            hub.wake.clear()
            await publish(exchange, {"event": "slot", "sender_id": "s-1", "name": "x", "value": 1})
            await publish(exchange, {"event": "bot", "sender_id": "s-1", "text": "hi", "timestamp": 2.0})
            await hub.wake.wait()  # the slot event alone would not wake it; the bot's message does
            await asyncio.to_thread(close_connection_named, name)
            while consumer.bound.is_set():
                await asyncio.sleep(0.1)
            await consumer.bound.wait()  # back, with a new queue
            assert any("RabbitMQ unavailable" in record.message for record in caplog.records)
            hub.wake.clear()
            await publish(exchange, {"event": "user", "sender_id": "s-1", "text": "still there?", "timestamp": 3.0})
            await hub.wake.wait()
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_the_relay_resubscribes_after_redis_drops_it(caplog: pytest.LogCaptureFixture) -> None:
    require("Redis")
    name = unique("relay")
    listener = redis.asyncio.Redis.from_url(redis_test_url(), client_name=name)
    sender = redis.asyncio.Redis.from_url(redis_test_url())
    channel, hub = unique("channel"), Hub()
    relay = RedisRelay(listener, channel)
    got: list[dict[str, Any]] = []
    hub.deliver = lambda message: _record(got, message)  # type: ignore[method-assign]
    task = asyncio.create_task(relay.listen(hub))
    try:
        async with asyncio.timeout(READY_TIMEOUT):
            await relay.subscribed.wait()
            await RedisRelay(sender, channel).publish({"to": "agents", "payload": {"n": 1}})
            while not got:
                await asyncio.sleep(0.05)
            for client in await sender.client_list():
                if client.get("name") == name:
                    await sender.client_kill_filter(_id=client["id"])
            while relay.subscribed.is_set():
                await asyncio.sleep(0.05)
            await relay.subscribed.wait()
            assert any("lost Redis" in record.message for record in caplog.records)
            await RedisRelay(sender, channel).publish({"to": "agents", "payload": {"n": 2}})
            while len(got) < 2:
                await asyncio.sleep(0.05)
        assert [message["payload"] for message in got] == [{"n": 1}, {"n": 2}]
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await listener.aclose()
        await sender.aclose()


async def _record(got: list[dict[str, Any]], message: dict[str, Any]) -> None:
    got.append(message)


def endpoints_with_broker(directory: Path, exchange: str, queue: str) -> Path:
    """Rasa's endpoints with its Pika event broker on ``exchange`` (and ``queue``, which Rasa insists on)."""
    path = directory / "endpoints.yml"
    path.write_text(
        "action_endpoint:\n  url: ${ACTION_ENDPOINT_URL}\n  headers:\n    Authorization: Bearer ${ACTION_SERVER_TOKEN}\n"
        "event_broker:\n  type: pika\n  url: 127.0.0.1\n  port: 5672\n  username: guest\n  password: guest\n"
        f"  exchange_name: {exchange}\n  queues:\n    - {queue}\n"
    )
    return path


async def delete_queue(name: str) -> None:
    connection = await aio_pika.connect(rabbitmq_test_url())
    async with connection:
        channel = await connection.channel()
        await channel.queue_delete(name)


@pytest.mark.integration
async def test_a_shoppers_message_on_one_replica_reaches_the_agent_on_the_other_live(
    demo_settings: Settings, tmp_path: Path,
) -> None:
    """Real Rasa publishing its events to RabbitMQ, the real action server, two web replicas:
    the widget talks to the first, the console to the second."""
    from assistant.launcher import services
    from tests.conftest import MODEL_PATH

    require("Redis")
    require("RabbitMQ")
    if not MODEL_PATH.exists():
        pytest.fail(f"no trained model at {MODEL_PATH}; `make test` trains it first")
    exchange, queue = unique("exchange"), unique("rasa-events")
    settings = dataclasses.replace(
        demo_settings, redis_url=redis_test_url(), rabbitmq_url=rabbitmq_test_url(), rabbitmq_exchange=exchange
    )
    ports = Ports.free()
    backends = [service for service in services(settings, MODEL_PATH, ports, tmp_path, demo_mode=False)
                if service.name != "web app"]
    rasa = backends[1].command
    rasa[rasa.index("--endpoints") + 1] = str(endpoints_with_broker(tmp_path, exchange, queue))
    env = replica_environment(settings, ports)
    try:
        for service in backends:
            _start(service, env)
            wait_healthy(service, 600.0)
        with web_replicas(settings, tmp_path, backends=ports) as (first, second):
            for n in range(2):
                await wait_for_log(tmp_path / f"web-{n}.log", "live relay: subscribed", "broker: consuming")
            await _take_over_across_replicas(settings, first, second)
    finally:
        stop(backends)
        await delete_queue(queue)


async def _take_over_across_replicas(settings: Settings, first: str, second: str) -> None:
    shopper, agent = ShopperClient(first), AgentClient(second)
    try:
        await agent.login(*create_agent(settings, display_name="Sam"))
        await shopper.chat("hi")
        await shopper.chat("I want to talk to a person")
        sender = shopper.sender(settings.web_secret)
        item = await agent.queue_item(sender)
        stream = await shopper.stream()
        async with agent.socket() as console:
            status, claimed = await agent.call("POST", f"/conversations/{item['id']}/claim")
            assert status == 200, claimed
            joined = await next_frame(stream, lambda f: f["type"] == "handoff" and f["state"] != "waiting")
            assert (joined["state"], joined["agent_name"]) == ("agent_joined", "Sam")
            held = await shopper.chat("are you a real person?")
            assert held == {"messages": [], "held_by_agent": True}
            relayed = await next_frame(console, lambda f: f["type"] == "message" and f["message"]["from"] == "user")
            assert (relayed["conversation"], relayed["message"]["text"]) == (item["id"], "are you a real person?")
            status, sent = await agent.call("POST", f"/conversations/{item['id']}/messages", {"text": "Yes, I'm Sam."})
            assert status == 200, sent
            pushed = await next_frame(stream, lambda f: f["type"] == "message" and f["message"]["from"] == "agent")
            assert pushed["message"]["text"] == "Yes, I'm Sam."
        await stream.close()
    finally:
        await shopper.close()
        await agent.close()


async def test_with_redis_gone_shoppers_are_still_served_and_the_console_says_what_is_down(
    tmp_path: Path, caplog: pytest.LogCaptureFixture,
) -> None:
    """Nothing listens on the Redis port: rate limits are not counted (logged), the shopper's
    requests still go through, and the console answers 503 naming the problem."""
    settings = dataclasses.replace(
        replica_settings(tmp_path, f"sqlite:///{tmp_path / 'customers.db'}", unique("exchange")),
        redis_url=f"redis://127.0.0.1:{free_port()}/3", rabbitmq_url="",
    )
    server = TestServer(create_app(settings), host="127.0.0.1")
    await server.start_server()
    try:
        shopper = ShopperClient(str(server.make_url("")).rstrip("/"))
        try:
            assert await shopper.history() == []
        finally:
            await shopper.close()
        assert any("rate limits not counted, Redis unreachable" in record.message for record in caplog.records)
        async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as http:
            headers = {"Cookie": "sa_agent=some-token"}
            async with http.get(server.make_url("/agent/api/queue"), headers=headers) as answer:
                assert answer.status == 503
                assert "agent sessions are unavailable" in (await answer.json())["error"]
    finally:
        await server.close()
