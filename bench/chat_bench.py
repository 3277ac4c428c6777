"""End-to-end reply latency of the real stack, one message kind at a time, then four shoppers at once.

Run as ``python -m bench.chat_bench`` (``make bench``).  Starts the action server, the Rasa
server and the web app on free loopback ports exactly as ``make demo`` does, with a copy of
the demo customer database so orders looked up (and anything a reply writes) never touch
the demo store.  Each figure is the time from posting a message to the gateway channel to
receiving the bot's whole reply.  Writes ``bench/results/chat.json``.
"""

from __future__ import annotations

import argparse
import dataclasses
import random
import sqlite3
import string
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from sqlalchemy import make_url

from assistant.identity import sign_customer_token
from assistant.launcher import Ports, running_stack
from assistant.rasa_conversation import Conversation, payloads, texts
from assistant.settings import PROJECT_ROOT, Settings, load_settings
from assistant.store.db import open_store
from bench.common import latency_summary, load_average, write_result
from bench.search_bench import shopper_queries
from catalog_index.build import index_status

MODEL_PATH = PROJECT_ROOT / "models" / "current.tar.gz"
SAMPLES = 32
WARMUP = 2  # first replies of each kind pay for lazy loading; not counted
CONCURRENT_SHOPPERS = 4
CONVERSATIONS_PER_SHOPPER = 5
MAX_EXAMPLES = 5  # unexpected replies quoted in the results, to tell a wrong intent from a slow one

GREETINGS = ("hi", "hello", "hey there", "good morning", "hi!", "hello, anyone there?", "hey", "good evening")
REFINEMENTS = (
    "got any in black?",
    "anything in blue",
    "cheaper",
    "something cheaper",
    "show me cheaper options",
    "maybe in grey",
    "anything in red",
    "have it in white?",
)
ORDER_QUESTIONS = (
    "where is my order",
    "what's the status of my order?",
    "has my order shipped yet?",
    "where is my package",
    "when will my order arrive?",
    "track my order",
)

Reply = list[dict[str, Any]]


@dataclasses.dataclass(frozen=True)
class Kind:
    """One kind of message: what the shopper says and what a correct reply carries."""

    name: str
    expected: Callable[[Reply], bool]


def _has_text(reply: Reply) -> bool:
    return bool(texts(reply).strip())


def _declines(reply: Reply) -> bool:
    """A fallback answer: words, but no products or order shown for a message that asked for neither."""
    return _has_text(reply) and not payloads(reply, "products") and not payloads(reply, "order_status")


KINDS = {
    "greeting": Kind("greeting", _has_text),
    "product_search": Kind("product_search", lambda reply: bool(payloads(reply, "products"))),
    "refinement": Kind("refinement", lambda reply: bool(payloads(reply, "products"))),
    "order_status": Kind("order_status", lambda reply: bool(payloads(reply, "order_status"))),
    "fallback": Kind("fallback", _declines),
}


def gibberish(rng: random.Random) -> str:
    """A message no intent matches, so the reply goes through the fallback path."""
    return " ".join("".join(rng.choices(string.ascii_lowercase, k=rng.randint(4, 9))) for _ in range(rng.randint(2, 4)))


def copy_database(source: Path, target: Path) -> str:
    """Copy the SQLite customer store with SQLite's backup API (safe while a demo is using it)."""
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    return f"sqlite:///{target}"


def customers_with_orders(database_url: str, limit: int) -> list[str]:
    """Ids of customers who have at least one order, so "where is my order" has an answer."""
    with open_store(database_url) as store, store.unit_of_work() as uow:
        return uow.orders.customers_with_orders(limit)


class BenchShopper:
    """Opens conversations with the running Rasa server, as the web gateway would."""

    def __init__(self, settings: Settings, rasa_url: str, customer_ids: Sequence[str]) -> None:
        self._settings = settings
        self._rasa_url = rasa_url
        self._customer_ids = list(customer_ids)

    def conversation(self, customer_index: int | None = None) -> Conversation:
        token = None
        if customer_index is not None:
            customer = self._customer_ids[customer_index % len(self._customer_ids)]
            token = sign_customer_token(customer, self._settings.store_secret)
        return Conversation(self._rasa_url, self._settings.gateway_token, f"bench-{uuid.uuid4().hex[:12]}", token)


@dataclasses.dataclass
class Samples:
    """Latencies and unexpected replies collected for one kind of message."""

    seconds: list[float] = dataclasses.field(default_factory=list)
    unexpected: int = 0
    examples: list[str] = dataclasses.field(default_factory=list)

    def record(self, kind: Kind, chat: Conversation, message: str, counted: bool) -> Reply:
        """Send ``message``; when ``counted``, keep its latency and note a reply that lacks what it should carry."""
        started = time.perf_counter()
        reply = chat.say(message)
        elapsed = time.perf_counter() - started
        if counted:
            self.seconds.append(elapsed)
            if not kind.expected(reply):
                self.unexpected += 1
                if len(self.examples) < MAX_EXAMPLES:
                    self.examples.append(f"{message!r} -> {texts(reply)[:120]!r}")
        return reply

    def summary(self) -> dict[str, Any]:
        return {
            **latency_summary(self.seconds),
            "unexpected_replies": self.unexpected,
            "unexpected_examples": self.examples,
        }


def sequential(shopper: BenchShopper, samples: int) -> dict[str, Samples]:
    """``samples`` measured messages of each kind, one at a time, each in a fresh conversation.

    A refinement needs a search before it, so each search conversation continues with one.
    """
    rng = random.Random(11)
    searches = shopper_queries()
    rng.shuffle(searches)
    measured = {name: Samples() for name in KINDS}
    for number in range(samples + WARMUP):
        counted = number >= WARMUP
        measured["greeting"].record(
            KINDS["greeting"], shopper.conversation(), GREETINGS[number % len(GREETINGS)], counted
        )
        chat = shopper.conversation()
        measured["product_search"].record(KINDS["product_search"], chat, searches[number % len(searches)], counted)
        measured["refinement"].record(KINDS["refinement"], chat, REFINEMENTS[number % len(REFINEMENTS)], counted)
        measured["order_status"].record(
            KINDS["order_status"], shopper.conversation(number), ORDER_QUESTIONS[number % len(ORDER_QUESTIONS)], counted
        )
        measured["fallback"].record(KINDS["fallback"], shopper.conversation(), gibberish(rng), counted)
        if number % 8 == 7:
            print(f"  {number + 1}/{samples + WARMUP} rounds", flush=True)
    return measured


def one_shopper(shopper: BenchShopper, worker: int, conversations: int) -> tuple[list[float], int]:
    """A shopper's visits: greet, search, refine, ask for their order; latencies and unexpected count."""
    rng = random.Random(100 + worker)
    searches = shopper_queries()
    seconds: list[float] = []
    unexpected = 0
    for visit in range(conversations):
        chat = shopper.conversation(worker * conversations + visit)
        script = (
            ("greeting", rng.choice(GREETINGS)),
            ("product_search", rng.choice(searches)),
            ("refinement", rng.choice(REFINEMENTS)),
            ("order_status", rng.choice(ORDER_QUESTIONS)),
        )
        for name, message in script:
            started = time.perf_counter()
            reply = chat.say(message)
            seconds.append(time.perf_counter() - started)
            unexpected += not KINDS[name].expected(reply)
    return seconds, unexpected


def concurrent(shopper: BenchShopper, shoppers: int, conversations: int) -> dict[str, Any]:
    """Throughput with ``shoppers`` conversations in flight at once, a bounded number of messages."""
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=shoppers) as pool:
        results = list(pool.map(lambda worker: one_shopper(shopper, worker, conversations), range(shoppers)))
    wall = time.perf_counter() - started
    seconds = [value for worker_seconds, _ in results for value in worker_seconds]
    return {
        "what": f"{shoppers} shoppers at once, each {conversations} conversations of greet/search/refine/order status",
        "concurrent_conversations": shoppers,
        "messages": len(seconds),
        "wall_seconds": round(wall, 2),
        "messages_per_second": round(len(seconds) / wall, 2),
        "latency_under_load": latency_summary(seconds),
        "unexpected_replies": sum(count for _, count in results),
    }


def run(settings: Settings, samples: int = SAMPLES) -> Path:
    """Start the stack on a copy of the customer store, measure, write ``chat.json``."""
    load_at_start = load_average()
    status = index_status(settings.catalog_path, settings.index_dir, settings.embedding_model)
    if not status.ok:
        raise SystemExit(f"the catalog index of {settings.data_dir} is not ready ({status}); run `make demo-store`")
    source_db = Path(make_url(settings.database_url).database or "")
    if not settings.database_url.startswith("sqlite") or not source_db.is_file():
        raise SystemExit(
            f"the bench copies a SQLite customer store; {settings.database_url} is not one (unset SHOP_DATABASE_URL)"
        )
    with tempfile.TemporaryDirectory(prefix="shop-bench-") as scratch:
        work = Path(scratch)
        bench_settings = dataclasses.replace(settings, database_url=copy_database(source_db, work / "customers.db"))
        customers = customers_with_orders(bench_settings.database_url, samples + WARMUP)
        if not customers:
            raise SystemExit(f"no customer with orders in {source_db}; run `make demo-store`")
        ports = Ports.free()
        print("chat bench: starting the stack", flush=True)
        started = time.perf_counter()
        with running_stack(bench_settings, MODEL_PATH, ports, log_dir=work / "logs"):
            startup = time.perf_counter() - started
            shopper = BenchShopper(bench_settings, f"http://127.0.0.1:{ports.rasa}", customers)
            print(f"chat bench: stack up in {startup:.0f} s; sequential messages", flush=True)
            measured = sequential(shopper, samples)
            print("chat bench: concurrent conversations", flush=True)
            load = concurrent(shopper, CONCURRENT_SHOPPERS, CONVERSATIONS_PER_SHOPPER)
    all_sequential = [value for kind in measured.values() for value in kind.seconds]
    return write_result(
        "chat",
        {
            "stack": {
                "startup_seconds": round(startup, 1),
                "model": str(MODEL_PATH.relative_to(PROJECT_ROOT)),
                "path": "HTTP POST to Rasa's gateway channel -> NLU -> policies -> action server -> reply",
            },
            "sequential": {
                "what": "one message at a time, each kind in a fresh conversation (a refinement follows its search)",
                "warmup_messages_per_kind_not_counted": WARMUP,
                "by_kind": {name: kind.summary() for name, kind in measured.items()},
                "messages_per_second": round(len(all_sequential) / sum(all_sequential), 2),
            },
            "concurrent": load,
        },
        load_at_start=load_at_start,
        notes=[
            "Latency is measured at the Rasa gateway channel (what the web app forwards to), "
            "not through the browser WebSocket; the web app adds one loopback hop.",
            "Rasa, the action server (which embeds queries) and this client share the same 2 cores.",
        ],
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=None, help="store directory (default: the demo store)")
    parser.add_argument("--samples", type=int, default=SAMPLES, help="measured messages of each kind (at least 30)")
    args = parser.parse_args(argv)
    path = run(load_settings(args.data_dir), args.samples)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
