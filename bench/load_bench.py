"""Throughput and latency under load: our whole stack against a stock ``rasa init`` bot, same client, same mix.

Run as ``python -m bench.load_bench`` (``make bench``). A closed loop: ``--concurrency``
virtual shoppers (default 20), each holding one conversation at a time and sending its next
message as soon as the previous reply arrived; a conversation is an 8-message shopping mix
(greet, search, refine, show more, ask about one, add it to the cart, ask for a
recommendation, thank). Turns are counted for ``--duration`` seconds after ``--warmup``
seconds whose turns are not counted.

- **Ours**: started with assistant/launcher.py as ``make demo`` does (demo profile, a copy of
  the demo customer store), or with ``--profile production --replicas N`` as
  ``shop-assistant up --profile production --replicas N`` does (the production settings from
  the environment); driven through the web app's ``POST /api/chat``, one cookie jar per
  conversation, exactly as the widget talks to it.
- **Stock**: ``rasa init --no-prompt`` trained in a temporary directory with .venv-rasa (the
  same Rasa 3.6), served by ``rasa run`` on its REST channel (no custom actions), driven with
  the same messages to ``/webhooks/rest/webhook``, one sender id per conversation.

The two run one after the other, never at once, on this machine; ``bench/results/load.json``
holds turns/s, p50/p95/p99 of both, their ratios, Rasa's CPU seconds per turn and each
process's resident memory, with the machine and its load; ``bench/results/load.png`` plots them.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import os
import random
import subprocess
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import make_url

from assistant.launcher import RASA_BIN, Ports, Service, StackError, free_port, running_stack, stop, wait_healthy
from assistant.settings import PROJECT_ROOT, Settings, load_settings
from bench.chat_bench import copy_database
from bench.common import RESULTS_DIR, load_average, percentile, write_result
from bench.processes import cpu_seconds, process_memory
from bench.search_bench import shopper_queries

MODEL_PATH = PROJECT_ROOT / "models" / "current.tar.gz"
CONCURRENCY = 20
DURATION = 120.0
WARMUP = 60.0  # the first searches load the embedding model and index (lazily): not counted
TURN_TIMEOUT = 120.0
GREETINGS = ("hi", "hello", "hey there", "good morning", "hi!", "hello, anyone there?")
REFINEMENTS = ("got any in black?", "anything in blue", "cheaper", "something cheaper", "maybe in grey")
DETAILS = ("tell me about the second one", "more about the first one", "what about the third one?")
CART = ("add it to my cart", "add that one to my cart", "I'll take it")
RECOMMEND = ("what should I get?", "any recommendations for me?", "what else would you suggest?")
THANKS = ("thanks!", "thank you", "great, thanks", "bye")


KINDS = ("greet", "search", "refine", "show_more", "details", "cart", "recommend", "thanks")


def shopping_mix(rng: random.Random, searches: Sequence[str]) -> list[str]:
    """One conversation: the eight messages a shopper sends, drawn from each kind's phrasings."""
    return [
        rng.choice(GREETINGS), rng.choice(searches), rng.choice(REFINEMENTS), "show more",
        rng.choice(DETAILS), rng.choice(CART), rng.choice(RECOMMEND), rng.choice(THANKS),
    ]


# A client sends one message of one conversation and returns when the whole reply arrived.
Turn = Callable[[aiohttp.ClientSession, str, str], Awaitable[None]]


def web_app_turn(base_url: str) -> Turn:
    """A message to our web app, as the widget posts it (the session cookie lives in the jar)."""

    async def send(session: aiohttp.ClientSession, conversation: str, text: str) -> None:
        async with session.post(f"{base_url}/api/chat", json={"message": text}) as response:
            await response.read()
            if response.status != 200:
                raise RuntimeError(f"HTTP {response.status}")

    return send


def rest_channel_turn(base_url: str) -> Turn:
    """A message to a stock Rasa bot's REST channel, the conversation named by its sender id."""

    async def send(session: aiohttp.ClientSession, conversation: str, text: str) -> None:
        async with session.post(f"{base_url}/webhooks/rest/webhook", json={"sender": conversation, "message": text}) as response:
            await response.read()
            if response.status != 200:
                raise RuntimeError(f"HTTP {response.status}")

    return send


@dataclasses.dataclass
class Tally:
    """Turns finished inside the measured window: their latencies (also by kind of message) and
    what failed; turns started inside it but still running when it closed are counted apart."""

    window_start: float
    window_end: float
    latencies: list[float] = dataclasses.field(default_factory=list)
    by_kind: dict[str, list[float]] = dataclasses.field(default_factory=dict)
    errors: dict[str, int] = dataclasses.field(default_factory=dict)
    unfinished_at_end: int = 0

    def record(self, kind: str, started: float, finished: float, error: str | None) -> None:
        if not self.window_start <= started <= self.window_end:
            return
        if finished > self.window_end:
            self.unfinished_at_end += 1
        elif error:
            self.errors[error] = self.errors.get(error, 0) + 1
        else:
            self.latencies.append(finished - started)
            self.by_kind.setdefault(kind, []).append(finished - started)


async def shopper(turn: Turn, tally: Tally, seed: int, searches: Sequence[str]) -> None:
    """One virtual shopper: conversation after conversation until the window closes."""
    rng = random.Random(seed)
    connector = aiohttp.TCPConnector(limit=1)
    timeout = aiohttp.ClientTimeout(total=TURN_TIMEOUT)
    while time.monotonic() < tally.window_end:
        conversation = f"load-{uuid.uuid4().hex}"
        # A new jar per conversation: a new shopper's cookie, as a new browser gets (IP hosts allowed).
        async with aiohttp.ClientSession(
            connector=connector, connector_owner=False, timeout=timeout, cookie_jar=aiohttp.CookieJar(unsafe=True)
        ) as session:
            for kind, text in zip(KINDS, shopping_mix(rng, searches), strict=True):
                if time.monotonic() >= tally.window_end:
                    break
                started = time.monotonic()
                error = None
                try:
                    await turn(session, conversation, text)
                except (aiohttp.ClientError, asyncio.TimeoutError, RuntimeError) as failure:
                    error = str(failure) or type(failure).__name__
                tally.record(kind, started, time.monotonic(), error)
    await connector.close()


def drive(turn: Turn, concurrency: int, duration: float, warmup: float, rasa_pids: Sequence[int]) -> dict[str, Any]:
    """Run the closed loop; the figures of the measured window, with the Rasa servers' CPU per turn.

    ``rasa_pids`` lead process groups (the launcher starts each server in its own session).
    """
    searches = shopper_queries()
    now = time.monotonic()
    tally = Tally(window_start=now + warmup, window_end=now + warmup + duration)

    async def main() -> float:
        tasks = [asyncio.create_task(shopper(turn, tally, seed, searches)) for seed in range(concurrency)]
        await asyncio.sleep(max(0.0, tally.window_start - time.monotonic()))
        cpu_start = sum(cpu_seconds(pid) for pid in rasa_pids)
        await asyncio.sleep(max(0.0, tally.window_end - time.monotonic()))
        cpu = sum(cpu_seconds(pid) for pid in rasa_pids) - cpu_start
        await asyncio.gather(*tasks)
        return cpu

    rasa_cpu = asyncio.run(main())
    turns = len(tally.latencies)
    figures: dict[str, Any] = {
        "concurrency": concurrency,
        "measured_seconds": duration,
        "warmup_seconds_not_counted": warmup,
        "turns": turns,
        "turns_per_second": round(turns / duration, 2),
        "errors": tally.errors,
        "unfinished_at_end_not_counted": tally.unfinished_at_end,
        "rasa_cpu_seconds_per_turn": round(rasa_cpu / turns, 4) if turns else None,
    }
    if turns:
        figures |= {f"p{q}_ms": round(percentile(tally.latencies, q) * 1000, 1) for q in (50, 95, 99)}
        figures["by_kind"] = {
            kind: {"n": len(seconds), "p50_ms": round(percentile(seconds, 50) * 1000, 1),
                   "p95_ms": round(percentile(seconds, 95) * 1000, 1), "max_ms": round(max(seconds) * 1000, 1)}
            for kind, seconds in tally.by_kind.items()
        }
    return figures


@contextlib.contextmanager
def our_stack(
    settings: Settings, profile: str, replicas: int, work: Path, log_dir: Path
) -> Iterator[tuple[str, list[Service]]]:
    """Our stack, healthy: the web app's base URL and the services (demo: on a copy of the customer store)."""
    if profile == "production":
        try:
            from assistant.production_plan import FrontPorts, running_production
        except ImportError:
            raise SystemExit("--profile production needs the production launcher (assistant/production_plan.py)") from None
        with running_production(settings, MODEL_PATH, replicas=replicas, fronts=FrontPorts.free(), log_dir=log_dir) as stack:
            yield stack.url, stack.services
        return
    if replicas != 1:
        raise SystemExit("--replicas needs --profile production (the demo profile runs one process of each)")
    source_db = Path(make_url(settings.database_url).database or "")
    if not settings.database_url.startswith("sqlite") or not source_db.is_file():
        raise SystemExit(f"the demo profile's bench copies a SQLite customer store; {settings.database_url} is not one")
    bench_settings = dataclasses.replace(settings, database_url=copy_database(source_db, work / "customers.db"))
    ports = Ports.free()
    with running_stack(bench_settings, MODEL_PATH, ports, log_dir=log_dir) as services:
        yield f"http://127.0.0.1:{ports.web}", services


RASA_ENVIRONMENT = {"TF_CPP_MIN_LOG_LEVEL": "2", "SQLALCHEMY_SILENCE_UBER_WARNING": "1", "RASA_TELEMETRY_ENABLED": "false"}


def stock_model(directory: Path) -> Path:
    """The stock bot's model in ``directory``: ``rasa init --no-prompt`` (which trains) unless one is there."""
    directory = directory.resolve()
    models = sorted((directory / "bot" / "models").glob("*.tar.gz"))
    if models:
        return models[-1]
    (directory / "bot").mkdir(parents=True, exist_ok=True)  # rasa init wants the folder to exist
    with (directory / "init.log").open("wb") as log:
        subprocess.run(
            [str(RASA_BIN), "init", "--no-prompt", "--init-dir", str(directory / "bot")],
            cwd=directory, env=os.environ | RASA_ENVIRONMENT, stdout=log, stderr=subprocess.STDOUT, check=True,
        )
    models = sorted((directory / "bot" / "models").glob("*.tar.gz"))
    if not models:
        raise SystemExit(f"rasa init trained no model; see {directory / 'init.log'}")
    return models[-1]


@contextlib.contextmanager
def stock_bot(directory: Path, model: Path) -> Iterator[tuple[str, Service]]:
    """``rasa run`` of the stock bot on its REST channel on a free loopback port, healthy."""
    directory = directory.resolve()
    port = free_port()
    service = Service(
        "stock rasa server",
        [str(RASA_BIN), "run", "--interface", "127.0.0.1", "--port", str(port), "--model", str(model),
         "--credentials", str(directory / "bot" / "credentials.yml")],
        f"http://127.0.0.1:{port}/",
        directory / "stock-rasa.log",
    )
    with service.log_path.open("ab") as log:
        service.process = subprocess.Popen(
            service.command, cwd=directory / "bot", env=os.environ | RASA_ENVIRONMENT, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_healthy(service, timeout=900)
        yield f"http://127.0.0.1:{port}", service
    finally:
        stop([service])


def rasa_pids(services: Sequence[Service]) -> list[int]:
    return [service.process.pid for service in services if service.process and service.name.startswith("rasa server")]


def ratio(ours: float | None, stock: float | None) -> float | None:
    return round(ours / stock, 3) if ours and stock else None


def run(settings: Settings, args: argparse.Namespace) -> Path:
    load_at_start = load_average()
    with tempfile.TemporaryDirectory(prefix="shop-load-bench-") as scratch:
        work = Path(scratch)
        log_dir = (args.log_dir or work / "logs").resolve()
        stock_dir = args.stock_dir or work / "stock"
        print(f"load bench: the stock `rasa init` bot in {stock_dir} (trained when absent)", flush=True)
        model = stock_model(stock_dir)
        label = f"ours ({args.profile}, {args.replicas} of each server)"
        print(f"load bench: starting {label}", flush=True)
        started = time.monotonic()
        with our_stack(settings, args.profile, args.replicas, work, log_dir) as (url, services):
            startup = time.monotonic() - started
            print(f"load bench: driving {label} at {args.concurrency} conversations", flush=True)
            ours = drive(web_app_turn(url), args.concurrency, args.duration, args.warmup, rasa_pids(services))
            ours |= {"what": label, "startup_seconds": round(startup, 1), "resident_mib": process_memory(services)}
        print("load bench: starting the stock bot", flush=True)
        started = time.monotonic()
        with stock_bot(stock_dir, model) as (url, service):
            startup = time.monotonic() - started
            print(f"load bench: driving the stock bot at {args.concurrency} conversations", flush=True)
            stock = drive(rest_channel_turn(url), args.concurrency, args.duration, args.warmup, [service.process.pid])
            stock |= {"what": "stock `rasa init` bot, REST channel, no custom actions", "startup_seconds": round(startup, 1),
                      "resident_mib": process_memory([service])}
    results = {
        "ours": ours,
        "stock": stock,
        "ratio_ours_to_stock": {
            key: ratio(ours.get(key), stock.get(key))
            for key in ("turns_per_second", "p50_ms", "p95_ms", "p99_ms", "rasa_cpu_seconds_per_turn")
        },
    }
    path = write_result(
        args.result_name, results, load_at_start=load_at_start,
        notes=[
            "Closed loop: each virtual shopper sends its next message when the previous reply arrived; "
            "turns count when started and finished inside the measured window.",
            "Ours is measured through the web app (POST /api/chat, one cookie jar per conversation); the stock bot "
            "through Rasa's REST channel. The two ran one after the other on the same machine, with this client on it too.",
            "ratio_ours_to_stock: turns/s above 1 is better for ours; latencies and CPU per turn below 1 are.",
        ],
    )
    plot(results, path.with_suffix(".png"))
    return path


def plot(results: dict[str, Any], path: Path) -> None:
    """Turns/s and p50/p95/p99 of both bots side by side."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    bots = [("ours", "#1f77b4"), ("stock", "#aaaaaa")]
    figure, (throughput, latency) = plt.subplots(1, 2, figsize=(10, 4))
    throughput.bar([results[b]["what"].split(",")[0] for b, _ in bots], [results[b]["turns_per_second"] for b, _ in bots],
                   color=[c for _, c in bots])
    throughput.set_ylabel("turns / s")
    throughput.set_title(f"{results['ours']['concurrency']} concurrent conversations")
    width = 0.38
    for offset, (bot, color) in enumerate(bots):
        values = [results[bot].get(f"p{q}_ms") or 0 for q in (50, 95, 99)]
        latency.bar([i + offset * width for i in range(3)], values, width, label=bot, color=color)
    latency.set_xticks([i + width / 2 for i in range(3)], ["p50", "p95", "p99"])
    latency.set_ylabel("ms per turn")
    latency.legend()
    figure.suptitle(f"ours: {results['ours']['what']}")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=None, help="store directory (default: the demo store)")
    parser.add_argument("--concurrency", type=int, default=CONCURRENCY, help="conversations in flight at once")
    parser.add_argument("--duration", type=float, default=DURATION, help="measured seconds per bot")
    parser.add_argument("--warmup", type=float, default=WARMUP, help="seconds of load before measuring")
    parser.add_argument("--profile", choices=("demo", "production"), default="demo")
    parser.add_argument("--replicas", type=int, default=1, help="production: how many of each server")
    parser.add_argument("--result-name", default="load", help="bench/results/<name>.json and .png")
    parser.add_argument("--log-dir", type=Path, default=None, help="keep our servers' logs here (default: discarded)")
    parser.add_argument("--stock-dir", type=Path, default=None,
                        help="keep the stock bot here and reuse its model next time (default: a temporary directory)")
    args = parser.parse_args(argv)
    if not MODEL_PATH.exists():
        raise SystemExit(f"no trained model at {MODEL_PATH}: run `make model`")
    try:
        # production: every secret and service URL from the environment, as `up --profile production` takes them
        settings = load_settings(args.data_dir, profile="production") if args.profile == "production" else load_settings(args.data_dir)
        path = run(settings, args)
    except StackError as error:
        raise SystemExit(f"load bench: {error}") from None
    print(f"wrote {path} and {path.with_suffix('.png').relative_to(RESULTS_DIR.parent.parent)}")


if __name__ == "__main__":
    main()
