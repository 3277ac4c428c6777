"""The message ledger (issue #11.6): nothing a shopper types is lost, doubled or reordered
while parts of the production stack die and come back.

Twenty shoppers each hold one conversation with the balancer's door of
``up --profile production --replicas 2`` (the session's stack), from an address of their
own, five messages each, every message carrying an id (``"message_id"``, which Rasa keeps
in the user event's metadata as ``client_message_id``). The messages go in rounds, each
meeting a disruption that is under way when the round starts:

0. "hi": the stack as started;
1. a search: Rasa replica 1, action-server replica 2 and web replica 1 each stopped (SIGTERM,
   SIGKILL after 10 s) and started again, all three at once;
2. "show more": every connection to the tracker database terminated (``pg_terminate_backend``),
   the stack's Redis clients killed (``CLIENT KILL``) and its RabbitMQ connections closed by
   the server (``rabbitmqctl close_connection``; ``ss -K`` where that is not allowed): the
   servers are shared with other sessions, so their loss is simulated, they are not restarted
   (tests/connection_drops.py);
3. "tell me about the second one": every Rasa replica restarted at once;
4. "thanks": the stack after all that.

A shopper whose message meets a part that is down must be told so honestly (the web app's
503 message, its "part of our system isn't answering" reply, or a 429 with Retry-After)
and sends the same message again with the same id until it is answered. Afterwards the
ledger is read from Rasa's SQL tracker store: in every conversation the user messages'
ids are exactly the ids sent, each once, in order, and each has a bot reply before the
next: sent = stored = answered, with lost, duplicated and reordered all 0.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
from sqlalchemy import make_url, text

from assistant.production_plan import ProductionStack
from assistant.settings import Settings
from assistant.store.db import make_engine
from assistant.web.views_chat import NO_REPLY, UNREACHABLE
from tests.connection_drops import drop_postgres, drop_rabbitmq, drop_redis, process_group
from tests.production_fixtures import browser, guest_sender
from tests.production_services import postgres_conninfo

pytestmark = pytest.mark.production

CONVERSATIONS = 20
SEARCHES = ("waterproof hiking boots under $150", "show me tents", "running shoes under $80", "a rain jacket",
            "sleeping bags", "trekking poles")
RETRY_PAUSE_SECONDS = 3.0  # 20 retries a minute stay under the chat limit of 30 per session
GIVE_UP_SECONDS = 600.0  # a message not answered by then is lost (Rasa restarts take minutes here)


def script(number: int) -> list[str]:
    return ["hi", SEARCHES[number % len(SEARCHES)], "show more", "tell me about the second one", "thanks"]


@dataclass
class Ledger:
    """What the shoppers sent and saw: ids per conversation in order, every failed attempt."""

    sent: dict[str, list[str]] = field(default_factory=dict)  # sender id -> message ids in order
    answered: set[str] = field(default_factory=set)
    honest_failures: list[tuple[str, int, str]] = field(default_factory=list)  # id, status, what was shown
    other_failures: list[tuple[str, str]] = field(default_factory=list)  # id, what came back instead


def honest(status: int, body: Any) -> str | None:
    """The honest words a failed attempt showed the shopper, or None when it showed none."""
    if not isinstance(body, dict):
        return None
    shown = " ".join(str(m.get("text") or "") for m in body.get("messages") or [] if isinstance(m, dict))
    if status == 503 and shown == UNREACHABLE:
        return shown
    if status == 200 and shown == NO_REPLY:
        return shown
    if status == 429 and isinstance(body.get("error"), str):
        return body["error"]
    return None


async def deliver(session: aiohttp.ClientSession, words: str, message_id: str, ledger: Ledger) -> None:
    """Send one message until it is answered, again with the same id after each honest failure."""
    deadline = time.monotonic() + GIVE_UP_SECONDS
    while True:
        pause = RETRY_PAUSE_SECONDS
        try:
            async with session.post("/api/chat", json={"message": words, "message_id": message_id}) as response:
                status, raw = response.status, await response.text()
                pause = float(response.headers.get("Retry-After", pause))
            body = json.loads(raw) if raw.startswith("{") else raw
        except (aiohttp.ClientError, asyncio.TimeoutError) as error:
            status, body = 0, f"{type(error).__name__}: {error}"
        if status == 200 and isinstance(body, dict) and body.get("messages") and honest(status, body) is None:
            ledger.answered.add(message_id)
            return
        shown = honest(status, body)
        if shown is None:
            ledger.other_failures.append((message_id, f"{status} {str(body)[:200]}"))
        else:
            ledger.honest_failures.append((message_id, status, shown))
        assert time.monotonic() < deadline, f"{message_id} was not answered in {GIVE_UP_SECONDS:.0f} s"
        await asyncio.sleep(pause)


async def converse(stack: ProductionStack, settings: Settings, number: int, rounds: list[asyncio.Event],
                   done: list[asyncio.Semaphore], ledger: Ledger) -> None:
    """One shopper: message k once round k has begun."""
    async with browser(stack, f"127.0.0.{10 + number}") as session:
        ids: list[str] = []
        for step, words in enumerate(script(number)):
            await rounds[step].wait()
            ids.append(f"c{number:02d}-m{step}")
            await deliver(session, words, ids[-1], ledger)
            done[step].release()
        ledger.sent[guest_sender(session, settings)] = ids


def stopped(processes: list[Any]) -> bool:
    return all(process is None or process.poll() is not None for process in processes)


async def restart_under_way(stack: ProductionStack, *names: str) -> asyncio.Future[Any]:
    """Restart the named services (each in a thread of its own); return once the old processes are gone."""
    old = [service.process for name in names for service in stack.named(name)]
    restarting = asyncio.gather(*(asyncio.to_thread(stack.restart, name) for name in names))
    while not stopped(old):
        await asyncio.sleep(0.2)
    return restarting


def stack_pids(stack: ProductionStack) -> set[int]:
    """Every process of the replicas (Sanic and Rasa fork workers into the same group)."""
    return process_group(s.process.pid for s in stack.services if s.process and s.name != "load balancer")


async def disrupt(stack: ProductionStack, settings: Settings, rounds: list[asyncio.Event],
                  done: list[asyncio.Semaphore], notes: dict[str, Any]) -> None:
    """Start each round with its disruption under way; the next once the round is answered."""

    async def round_answered(step: int) -> None:
        for _ in range(CONVERSATIONS):
            await done[step].acquire()

    rounds[0].set()
    await round_answered(0)

    restarting = await restart_under_way(stack, "rasa server 1", "action server 2", "web app 1")
    rounds[1].set()
    await round_answered(1)
    await restarting

    tracker_db = make_url(settings.tracker_database_url).database or ""
    notes["postgres_backends_terminated"] = await asyncio.to_thread(drop_postgres, postgres_conninfo(), tracker_db)
    pids = stack_pids(stack)
    notes["redis_clients_killed"] = await asyncio.to_thread(drop_redis, settings.redis_url, pids)
    notes["rabbitmq_connections_closed"], notes["rabbitmq_how"] = await asyncio.to_thread(drop_rabbitmq, pids)
    rounds[2].set()
    await round_answered(2)

    restarting = await restart_under_way(stack, "rasa server")
    rounds[3].set()
    await round_answered(3)
    await restarting

    rounds[4].set()
    await round_answered(4)


def read_ledger(settings: Settings, senders: list[str]) -> dict[str, list[tuple[str | None, bool]]]:
    """Per conversation, its user messages from the SQL tracker store in order: (client id, answered)."""
    engine = make_engine(settings.tracker_database_url)
    stored: dict[str, list[tuple[str | None, bool]]] = {sender: [] for sender in senders}
    try:
        with engine.connect() as connection:
            for sender in senders:
                rows = connection.execute(
                    text("SELECT type_name, data FROM events WHERE sender_id = :s ORDER BY id"), {"s": sender})
                for kind, data in rows:
                    event = json.loads(data)
                    metadata = event.get("metadata") or {}
                    if kind == "user":
                        stored[sender].append((metadata.get("client_message_id"), False))
                    elif kind == "bot" and stored[sender] and metadata.get("from") not in ("agent", "system"):
                        stored[sender][-1] = (stored[sender][-1][0], True)
    finally:
        engine.dispose()
    return stored


async def test_the_message_ledger_balances_through_restarts_and_lost_connections(
    production_stack: ProductionStack, production_settings: Settings,
) -> None:
    stack, settings = production_stack, production_settings
    steps = len(script(0))
    rounds = [asyncio.Event() for _ in range(steps)]
    done = [asyncio.Semaphore(0) for _ in range(steps)]
    ledger, notes = Ledger(), {}
    started = time.monotonic()
    await asyncio.gather(
        disrupt(stack, settings, rounds, done, notes),
        *(converse(stack, settings, number, rounds, done, ledger) for number in range(CONVERSATIONS)),
    )

    stored = read_ledger(settings, list(ledger.sent))
    sent_ids = [message_id for ids in ledger.sent.values() for message_id in ids]
    stored_ids = [message_id for messages in stored.values() for message_id, _ in messages]
    lost = set(sent_ids) - set(stored_ids)
    duplicated = len(stored_ids) - len(set(stored_ids))
    reordered = sum(1 for sender, ids in ledger.sent.items()
                    if [i for i, _ in stored[sender] if i in set(ids)] != ids)
    answered = sum(1 for messages in stored.values() for _, replied in messages if replied)
    summary = (f"sent {len(sent_ids)}, stored {len(stored_ids)}, answered {answered}; lost {len(lost)}, "
               f"duplicated {duplicated}, reordered {reordered}; honest failures {len(ledger.honest_failures)} "
               f"(retried with the same id), other failures {len(ledger.other_failures)}; {notes}; "
               f"{time.monotonic() - started:.0f} s")
    print(f"message ledger: {summary}")
    assert notes["postgres_backends_terminated"] and notes["redis_clients_killed"] and notes["rabbitmq_connections_closed"]
    assert len(sent_ids) == CONVERSATIONS * steps and ledger.answered == set(sent_ids), summary
    assert stored_ids.count(None) == 0, f"user messages without an id in the ledger's conversations: {summary}"
    assert (len(lost), duplicated, reordered) == (0, 0, 0), f"{summary}; lost: {sorted(lost)}"
    assert len(sent_ids) == len(stored_ids) == answered, summary
    assert ledger.honest_failures, "no message met a part that was down: the disruptions missed the conversations"
    assert not ledger.other_failures, f"shoppers were shown something other than an honest message: {ledger.other_failures[:5]}"
