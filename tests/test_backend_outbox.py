"""The outbox (on SQLite and PostgreSQL) against a local store receiver that verifies signatures: down for a while, then up.

Requests wait while the store is unreachable or answering 503, are retried with the same
idempotency key until delivered, reach the store once per key and in order per order, and
two deliverers running at once do not send anything twice.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from assistant.backend.outbox import DeliveryFailed, OutboxDeliverer, OutboxEntry, backoff, enqueue, make_transport
from assistant.backend.webhook import body_of, sign, verify
from assistant.launcher import free_port
from assistant.settings import Settings, load_settings
from assistant.store.db import Store, UnitOfWork, make_engine, make_session_factory, migrate
from assistant.store.models import BackendOutboxRow, utcnow
from tests.store_fixtures import postgres_url, store_url  # noqa: F401
from tests.store_receiver import StoreReceiver

SECRET = "webhook-secret-for-tests"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    settings = load_settings(tmp_path, env={
        "SHOP_EMBEDDING_MODEL": "unused", "SHOP_STORE_SECRET": "s", "RASA_AUTH_TOKEN": "t",
        "ACTION_SERVER_TOKEN": "a", "GATEWAY_TOKEN": "g", "SHOP_WEB_SECRET": "w", "SHOP_STOREFRONT_KEY": "k",
        "SHOP_WEBHOOK_SECRET": SECRET,
    })
    migrate(settings.database_url)
    return settings


@pytest.fixture
def engine(store_url: str) -> Iterator[Engine]:  # noqa: F811
    """The outbox on SQLite and on PostgreSQL (the claim's compare-and-set must hold on both)."""
    engine = make_engine(store_url)
    yield engine
    engine.dispose()


@pytest.fixture
def factory(engine: Engine) -> sessionmaker[Session]:
    return make_session_factory(engine)


@pytest.fixture
def store(engine: Engine) -> Store:
    return Store(engine)


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


def enqueue_all(factory: sessionmaker[Session], requests: list[tuple[str, str | None, dict[str, object]]]) -> list[str]:
    with UnitOfWork(factory) as uow:
        keys = [enqueue(uow, kind, payload, order_id=order) for kind, order, payload in requests]
        uow.commit()
    return keys


def rows(factory: sessionmaker[Session]) -> list[BackendOutboxRow]:
    with factory() as session:
        return list(session.scalars(select(BackendOutboxRow).order_by(BackendOutboxRow.id)))


async def deliver_until_done(deliverer: OutboxDeliverer, factory: sessionmaker[Session], passes: int = 200) -> None:
    for _ in range(passes):
        await deliverer.run_once()
        if all(row.delivered_at or row.failed_at for row in rows(factory)):
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"not delivered after {passes} passes: {[(r.idempotency_key, r.last_error) for r in rows(factory)]}")


REQUESTS: list[tuple[str, str | None, dict[str, object]]] = [
    ("cancellation_requested", "SA-1", {"order_number": "SA-1", "step": 1}),
    ("cart_changed", None, {"items": [{"product_id": "P1", "quantity": 2}]}),
    ("return_requested", "SA-2", {"order_number": "SA-2", "step": 1}),
    ("cancellation_requested", "SA-1", {"order_number": "SA-1", "step": 2}),
    ("return_requested", "SA-2", {"order_number": "SA-2", "step": 2}),
    ("return_requested", "SA-1", {"order_number": "SA-1", "step": 3}),
]


async def test_a_store_down_for_a_while_gets_everything_once_and_in_order_per_order(
    settings: Settings, factory: sessionmaker[Session], store: Store, http: aiohttp.ClientSession
) -> None:
    port = free_port()
    settings = dataclasses.replace(settings, backend_webhook_url=f"http://127.0.0.1:{port}/shop-webhook")
    keys = enqueue_all(factory, REQUESTS)
    deliverer = OutboxDeliverer(store, make_transport(settings, http), base_delay=0.01, max_delay=0.05)

    # Nothing listens on the port yet: refused connections, every entry waits with its error.
    report = await deliverer.run_once()
    assert report.delivered == [] and report.retrying
    assert all(row.delivered_at is None and "unreachable" in (row.last_error or "") for row in rows(factory)
               if row.idempotency_key in report.retrying)

    receiver = StoreReceiver(SECRET, up=False, lose_answers=2)
    server = TestServer(receiver.app(), host="127.0.0.1", port=port)
    await server.start_server()
    try:
        await asyncio.sleep(0.06)
        await deliverer.run_once()  # listening but in maintenance: 503, still nothing handled
        assert receiver.attempts and receiver.handled == []
        receiver.up = True
        await deliver_until_done(deliverer, factory)
    finally:
        await server.close()

    assert sorted(receiver.keys()) == sorted(keys)  # every request, each key handled once
    assert len(receiver.attempts) > len(keys)  # ... although some were sent more than once
    assert receiver.forged == 0
    for order in ("SA-1", "SA-2"):
        steps = [doc["data"]["step"] for doc in receiver.handled if doc["order_id"] == order]
        assert steps == sorted(steps), f"{order} out of order: {steps}"
    # a repeated key is the same request: the lost answers were re-sent with the same key and body
    repeated = {key for key in receiver.attempts if receiver.attempts.count(key) > 1}
    assert repeated
    assert all(row.delivered_at is not None and row.attempts >= 1 for row in rows(factory))


async def test_two_deliverers_at_once_send_each_request_once(
    settings: Settings, factory: sessionmaker[Session], store: Store, http: aiohttp.ClientSession
) -> None:
    receiver = StoreReceiver(SECRET)
    server = TestServer(receiver.app(), host="127.0.0.1")
    await server.start_server()
    try:
        settings = dataclasses.replace(settings, backend_webhook_url=str(server.make_url("/shop-webhook")))
        keys = enqueue_all(factory, REQUESTS * 3)
        first = OutboxDeliverer(store, make_transport(settings, http))
        second = OutboxDeliverer(store, make_transport(settings, http))
        for _ in range(10):
            await asyncio.gather(first.run_until_idle(), second.run_until_idle())
    finally:
        await server.close()
    assert sorted(receiver.attempts) == sorted(keys)  # not one request sent twice
    assert all(row.attempts == 1 and row.delivered_at for row in rows(factory))


def test_the_same_key_is_enqueued_once_and_in_the_callers_transaction(factory: sessionmaker[Session]) -> None:
    with UnitOfWork(factory) as uow:
        enqueue(uow, "consent_changed", {"customer_id": "c1"}, key="consent:c1:1")
        # no commit: the change and its request roll back together
    assert rows(factory) == []
    for _ in range(2):
        with UnitOfWork(factory) as uow:
            assert enqueue(uow, "consent_changed", {"customer_id": "c1"}, key="consent:c1:1") == "consent:c1:1"
            uow.commit()
    assert [row.idempotency_key for row in rows(factory)] == ["consent:c1:1"]
    with UnitOfWork(factory) as uow, pytest.raises(ValueError, match="unknown outbox kind"):
        enqueue(uow, "order_teleported", {})


class Refusing:
    """A transport that refuses the first request of an order for good and accepts the rest."""

    def __init__(self) -> None:
        self.sent: list[str] = []

    async def send(self, entry: OutboxEntry) -> None:
        if entry.payload.get("step") == 1:
            raise DeliveryFailed("422 unknown order", retry=False)
        self.sent.append(entry.idempotency_key)


async def test_a_refused_request_is_parked_with_its_reason_and_does_not_block_its_order(
    factory: sessionmaker[Session], store: Store,
) -> None:
    keys = enqueue_all(factory, REQUESTS[:4])
    transport = Refusing()
    report = await OutboxDeliverer(store, transport).run_until_idle()
    assert sorted(report.failed) == sorted([keys[0], keys[2]])
    assert transport.sent == [keys[1], keys[3]]
    parked = {row.idempotency_key: row for row in rows(factory)}
    assert parked[keys[0]].failed_at is not None and parked[keys[0]].last_error == "422 unknown order"


def test_signatures_bind_body_and_time() -> None:
    entry = OutboxEntry(1, "k1", "cart_changed", None, {"items": []}, utcnow(), 1)
    body = body_of(entry)
    signature = sign(SECRET, "1700000000", body)
    assert verify(SECRET, "1700000000", body, signature, now=1700000010)
    assert not verify(SECRET, "1700000000", body + b" ", signature, now=1700000010)  # body changed
    assert not verify(SECRET, "1700000001", body, signature, now=1700000010)  # timestamp changed
    assert not verify(SECRET, "1700000000", body, signature, now=1700009999)  # replayed too late
    assert not verify("other-secret", "1700000000", body, signature, now=1700000010)
    assert not verify("", "1700000000", body, signature, now=1700000010)


def test_backoff_doubles_up_to_its_cap() -> None:
    assert [backoff(n, 2.0, 30.0) for n in range(1, 7)] == [2.0, 4.0, 8.0, 16.0, 30.0, 30.0]


def test_an_unknown_backend_name_is_a_clear_error(settings: Settings) -> None:
    with pytest.raises(ValueError, match="SHOP_BACKEND='magento' is not one of"):
        make_transport(dataclasses.replace(settings, backend="magento"), None)  # type: ignore[arg-type]


class FlakyFirstSteps:
    """A transport whose store keeps failing the first request of each order for a while."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.sent: list[tuple[str | None, object]] = []

    async def send(self, entry: OutboxEntry) -> None:
        if entry.payload.get("step") == 1 and self.failures > 0:
            self.failures -= 1
            raise DeliveryFailed("503", retry=True)
        self.sent.append((entry.order_id, entry.payload.get("step")))


async def test_a_later_request_about_an_order_waits_for_the_earlier_one(factory: sessionmaker[Session], store: Store) -> None:
    enqueue_all(factory, REQUESTS)
    transport = FlakyFirstSteps(failures=5)
    deliverer = OutboxDeliverer(store, transport, base_delay=0.01, max_delay=0.02)
    first_pass = await deliverer.run_until_idle()
    assert first_pass.retrying  # the first steps failed, so only the order-less cart change went
    assert transport.sent == [(None, None)]
    await deliver_until_done(deliverer, factory)
    for order in ("SA-1", "SA-2"):
        assert [step for sent_order, step in transport.sent if sent_order == order] == sorted(
            step for kind, o, payload in REQUESTS if o == order for step in [payload["step"]]
        )
