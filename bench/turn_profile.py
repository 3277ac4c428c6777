"""Where the time and CPU of one turn go, hop by hop, for the main kinds of message (issue #15.1).

Run as ``python -m bench.turn_profile`` (``make bench``; py-spy from ``make bench-tools``).
The whole stack is started as ``make demo`` starts it, on a copy of the demo customer store,
and driven through the web app's ``POST /api/chat`` (one cookie jar per conversation, a
logged-in customer each, as the widget does) with conversations of the load bench's mix plus
"where is my order". Conversations advance in lockstep, one turn of every conversation after
another, so each kind of message is measured on its own:

1. **Per process**: user + system CPU of the web app, the Rasa server and the action server
   (``/proc``, each process group) over each kind's turns, and the client's wall time per turn.
2. **Inside each process**: py-spy samples all three servers while the main kinds run
   (``--nonblocking``, so the servers are not paused; with their worker processes); samples of
   a server waiting for work are left out, and each other sample is given to the hop it was
   in (search, store, DIET, TED, the action call...), and that share of the process's CPU is
   the hop's. The same samples are drawn as one flame graph per kind
   (``bench/results/turn_profile/<kind>.svg``, raw stacks beside it).
3. **Inside Rasa, per graph node**: ``bench/rasa_turn_profile.py`` (in ``.venv-rasa``) loads
   the same model with Rasa's ``Agent`` and drives fresh conversations of the same plan
   against the same action server, timing every NLU component, every policy and the action
   call (wall and CPU).
4. With ``--stock-dir``: a stock ``rasa init`` bot (as the load bench trains it) gets the same
   messages in lockstep on its REST channel, for its Rasa CPU per turn beside ours.

Writes ``bench/results/turn_profile.json`` and prints the markdown table kept in
``bench/README.md``.
"""

from __future__ import annotations

import argparse
import dataclasses
import http.cookiejar
import json
import os
import random
import signal
import statistics
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import make_url

from assistant.identity import sign_customer_token
from assistant.launcher import RASA_BIN, Ports, Service, StackError, running_stack
from assistant.settings import PROJECT_ROOT, Settings, load_settings
from bench.chat_bench import ORDER_QUESTIONS, copy_database, customers_with_orders
from bench.common import RESULTS_DIR, load_average, write_result
from bench.flamegraph import Stacks, classify, drop_idle, read_collapsed, write_svg
from bench.load_bench import (
    CART,
    DETAILS,
    GREETINGS,
    RECOMMEND,
    REFINEMENTS,
    THANKS,
    stock_bot,
    stock_model,
)
from bench.processes import cpu_seconds
from bench.search_bench import shopper_queries

MODEL_PATH = PROJECT_ROOT / "models" / "current.tar.gz"
PY_SPY = PROJECT_ROOT / "var" / "bench-tools" / "bin" / "py-spy"
RASA_PROFILER = PROJECT_ROOT / "bench" / "rasa_turn_profile.py"
FLAME_DIR = RESULTS_DIR / "turn_profile"
CONVERSATIONS = 12
WARMUP = 2  # the first conversations load the embedding model, the index and caches: not counted
SAMPLE_RATE = 200  # py-spy samples per second per process
TURN_TIMEOUT = 120.0

# The order of a conversation; the main kinds (the issue's) get py-spy and a flame graph.
KINDS = ("greet", "search", "refine", "show_more", "details", "cart", "recommend", "order_status", "thanks")
MAIN_KINDS = ("greet", "search", "refine", "recommend", "order_status")
PROCESSES = ("web app", "rasa server", "action server")
# Innermost frames of a server waiting for work (see bench/flamegraph.py drop_idle).
IDLE_LEAVES = ("serve (sanic/server/runners.py)", ".select (selectors.py)", "_worker (concurrent/futures/thread.py)",
               "wait (threading.py)")

# py-spy sample -> hop: the first rule with a fragment in any frame of the stack wins. py-spy
# names a frame "function (package/path.py:line)", the path from the package root.
HOP_RULES: dict[str, list[tuple[str, list[str]]]] = {
    "web app": [
        ("background tasks (analytics, outbox, nudges, live hub)", ["_task.py", "(assistant/web/live/", "(assistant/observe/"]),
        ("gateway: call to Rasa (client side)", ["(assistant/web/rasa_client.py"]),
        ("handoff queue + customer store (SQL)", ["(assistant/handoff", "(assistant/store/", "(sqlalchemy/"]),
        ("web app handlers (session, identity, chat)", ["(assistant/"]),
        ("aiohttp server", ["(aiohttp/"]),
    ],
    "rasa server": [
        ("NLU: DIET", ["diet_classifier.py"]),
        ("NLU: MiniLM featurizer", ["minilm_featurizer.py", "onnx_sentence_encoder.py"]),
        ("NLU: tokenizer + sparse featurizers", ["count_vectors_featurizer.py", "lexical_syntactic_featurizer.py",
                                                 "regex_featurizer.py", "whitespace_tokenizer.py"]),
        ("NLU: other components", ["(rasa/nlu/"]),
        ("policy: TED", ["ted_policy.py"]),
        ("policy: rules + memoization", ["rule_policy.py", "memoization.py"]),
        ("policies: ensemble + state featurization", ["(rasa/core/policies/", "(rasa/core/featurizers/"]),
        ("action call (tracker + domain to JSON, answer checked)", ["(rasa/core/actions/action.py"]),
        ("graph runner", ["(rasa/engine/"]),
        ("tracker, events, lock + tracker store", ["(rasa/shared/core/trackers.py", "(rasa/shared/core/events.py",
                                                   "tracker_store.py", "lock_store.py"]),
        ("message processor (responses, events)", ["(rasa/core/processor.py"]),
        ("channel + HTTP server", ["(rasa/core/channels/", "(rasa_addons/", "(sanic/", "(rasa/server.py"]),
    ],
    "action server": [
        ("search (catalog_index)", ["(catalog_index/"]),
        ("recommendations", ["(assistant/recommend/"]),
        ("customer store (SQL)", ["(assistant/store/", "(sqlalchemy/"]),
        ("actions' own code (slots, replies)", ["(actions/", "(rasa_sdk_plugins/", "(assistant/"]),
        ("rasa-sdk + HTTP server", ["(rasa_sdk/", "(sanic/"]),
    ],
}


@dataclasses.dataclass
class ProfiledShopper:
    """One conversation through the web app: its own cookie jar, a logged-in customer, its turns."""

    base_url: str
    customer_token: str
    turns: list[tuple[str, str]]
    opener: urllib.request.OpenerDirector = dataclasses.field(init=False)

    def __post_init__(self) -> None:
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def say(self, text: str) -> float:
        """Send one message as the widget does; the seconds until the whole reply arrived."""
        body = json.dumps({"message": text, "customer_token": self.customer_token}).encode()
        request = urllib.request.Request(
            f"{self.base_url}/api/chat", data=body, headers={"Content-Type": "application/json"}
        )
        started = time.perf_counter()
        with self.opener.open(request, timeout=TURN_TIMEOUT) as response:
            response.read()
        return time.perf_counter() - started


def plan(rng: random.Random, count: int) -> list[list[tuple[str, str]]]:
    """``count`` conversations of the mix, each message drawn from its kind's phrasings."""
    searches = shopper_queries()
    phrasings = {
        "greet": GREETINGS, "search": searches, "refine": REFINEMENTS, "show_more": ("show more",),
        "details": DETAILS, "cart": CART, "recommend": RECOMMEND, "order_status": ORDER_QUESTIONS, "thanks": THANKS,
    }
    return [[(kind, rng.choice(phrasings[kind])) for kind in KINDS] for _ in range(count)]


class PySpy:
    """py-spy recording one process (raw collapsed stacks) until stopped."""

    def __init__(self, pid: int, output: Path) -> None:
        self.output = output
        self.process = subprocess.Popen(
            [str(PY_SPY), "record", "--pid", str(pid), "--rate", str(SAMPLE_RATE), "--format", "raw",
             "--nonblocking", "--subprocesses", "--output", str(output)],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )

    def stop(self) -> Stacks:
        """Stop sampling; the stacks recorded, waits left out."""
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        return drop_idle(read_collapsed(self.output), IDLE_LEAVES)


def drive_web(
    services: list[Service], base_url: str, conversations: list[list[tuple[str, str]]], tokens: list[str],
    warmup: int, spy: bool, raw_dir: Path,
) -> tuple[dict[str, Any], dict[str, dict[str, Stacks]]]:
    """Every conversation through the web app in lockstep; per kind: wall per turn, CPU per process per turn."""
    pids = {service.name: service.process.pid for service in services if service.process}
    shoppers = [ProfiledShopper(base_url, tokens[i % len(tokens)], turns) for i, turns in enumerate(conversations)]
    figures: dict[str, Any] = {}
    stacks: dict[str, dict[str, Stacks]] = {}
    for position, kind in enumerate(KINDS):
        for shopper in shoppers[:warmup]:
            shopper.say(shopper.turns[position][1])
        spies = (
            {name: PySpy(pid, raw_dir / f"{kind}-{name.replace(' ', '_')}.txt") for name, pid in pids.items()}
            if spy and kind in MAIN_KINDS
            else {}
        )
        cpu_before = {name: cpu_seconds(pid) for name, pid in pids.items()}
        walls = [shopper.say(shopper.turns[position][1]) for shopper in shoppers[warmup:]]
        cpu_after = {name: cpu_seconds(pid) for name, pid in pids.items()}
        if spies:
            stacks[kind] = {name: recorder.stop() for name, recorder in spies.items()}
        figures[kind] = {
            "turns": len(walls),
            "client_wall_ms": {"median": round(statistics.median(walls) * 1000, 1), "mean": round(statistics.fmean(walls) * 1000, 1)},
            "cpu_ms_per_turn": {name: round((cpu_after[name] - cpu_before[name]) * 1000 / len(walls), 1) for name in pids},
        }
        print(f"turn profile: {kind}: {figures[kind]}", flush=True)
    return figures, stacks


def drive_stock(base_url: str, pid: int, conversations: list[list[tuple[str, str]]], warmup: int) -> dict[str, Any]:
    """The same conversations, in lockstep, to a stock ``rasa init`` bot's REST channel: its Rasa CPU per turn by kind."""
    senders = [f"profile-{number}-{random.getrandbits(48):x}" for number in range(len(conversations))]

    def say(sender: str, text: str) -> float:
        request = urllib.request.Request(f"{base_url}/webhooks/rest/webhook", headers={"Content-Type": "application/json"},
                                         data=json.dumps({"sender": sender, "message": text}).encode())
        started = time.perf_counter()
        with urllib.request.urlopen(request, timeout=TURN_TIMEOUT) as response:
            response.read()
        return time.perf_counter() - started

    figures: dict[str, Any] = {}
    for position, kind in enumerate(KINDS):
        for sender, turns in zip(senders[:warmup], conversations[:warmup], strict=True):
            say(sender, turns[position][1])
        before = cpu_seconds(pid)
        walls = [say(sender, turns[position][1]) for sender, turns in zip(senders[warmup:], conversations[warmup:], strict=True)]
        figures[kind] = {
            "turns": len(walls),
            "client_wall_ms": {"median": round(statistics.median(walls) * 1000, 1)},
            "rasa_cpu_ms_per_turn": round((cpu_seconds(pid) - before) * 1000 / len(walls), 1),
        }
    return figures


def hops(kind_figures: dict[str, Any], kind_stacks: dict[str, Stacks]) -> dict[str, dict[str, float]]:
    """Each process's CPU per turn split over its hops by the share of py-spy samples in each."""
    split: dict[str, dict[str, float]] = {}
    for process, stacks in kind_stacks.items():
        counts = classify(stacks, HOP_RULES[process])
        total = sum(counts.values())
        cpu = kind_figures["cpu_ms_per_turn"][process]
        split[process] = {
            hop: round(cpu * samples / total, 1) for hop, samples in sorted(counts.items(), key=lambda item: -item[1])
        } if total else {}
    return split


def profile_rasa_in_process(
    settings: Settings, ports: Ports, conversations: list[list[tuple[str, str]]], tokens: list[str], work: Path
) -> dict[str, Any]:
    """``bench/rasa_turn_profile.py`` in .venv-rasa against the running action server."""
    plan_path, out = work / "rasa-plan.json", work / "rasa-profile.json"
    plan_path.write_text(json.dumps({
        "warmup": WARMUP,
        "conversations": [
            {"customer_token": tokens[i % len(tokens)], "turns": [{"kind": k, "text": t} for k, t in turns]}
            for i, turns in enumerate(conversations)
        ],
    }))
    environment = os.environ | {
        "ACTION_SERVER_TOKEN": settings.action_server_token, "TF_CPP_MIN_LOG_LEVEL": "2",
        "SQLALCHEMY_SILENCE_UBER_WARNING": "1", "RASA_TELEMETRY_ENABLED": "false",
    }
    subprocess.run(
        [str(RASA_BIN.parent / "python"), str(RASA_PROFILER), "--model", str(MODEL_PATH), "--conversations", str(plan_path),
         "--action-url", f"http://127.0.0.1:{ports.action_server}/webhook", "--out", str(out)],
        cwd=PROJECT_ROOT, env=environment, check=True,
    )
    return dict(json.loads(out.read_text()))


def markdown(kinds: dict[str, Any], stock: dict[str, Any] | None = None) -> str:
    """The table kept in bench/README.md: CPU ms per turn by hop (wall ms where it is a wait)."""
    shown = [kind for kind in MAIN_KINDS if kind in kinds]
    lines = ["| hop | " + " | ".join(shown) + " |", "|---|" + "---|" * len(shown)]

    def row(label: str, values: list[str]) -> None:
        lines.append(f"| {label} | " + " | ".join(values) + " |")

    row("**whole turn, wall ms (client, median)**", [f"{kinds[k]['client_wall_ms']['median']:.0f}" for k in shown])
    for process in PROCESSES:
        row(f"**{process}: CPU ms / turn**", [f"{kinds[k]['cpu_ms_per_turn'].get(process, 0):.0f}" for k in shown])
        names = sorted({hop for k in shown for hop in kinds[k].get("hops", {}).get(process, {})},
                       key=lambda hop: -sum(kinds[k].get("hops", {}).get(process, {}).get(hop, 0) for k in shown))
        for hop in names:
            row(f"&nbsp;&nbsp;{hop}", [f"{kinds[k].get('hops', {}).get(process, {}).get(hop, 0):.0f}" for k in shown])
    if stock:
        row("**stock `rasa init` bot, same messages: Rasa CPU ms / turn**", [f"{stock[k]['rasa_cpu_ms_per_turn']:.0f}" for k in shown])
    in_process = [kinds[k].get("rasa_in_process", {}).get("steps", {}) for k in shown]
    if any(in_process):
        row("**Rasa in process (Agent), wall ms / CPU ms per turn**", [""] * len(shown))
        steps = sorted({name for s in in_process for name in s}, key=lambda n: -sum(s.get(n, {}).get("cpu_ms_mean", 0) for s in in_process))
        for name in steps:
            values = [f"{s[name]['wall_ms_mean']:.0f} / {s[name]['cpu_ms_mean']:.0f}" if name in s else "-" for s in in_process]
            if any(v not in ("-", "0 / 0") for v in values):
                row(f"&nbsp;&nbsp;{name}", values)
    return "\n".join(lines)


def run(settings: Settings, args: argparse.Namespace) -> Path:
    load_at_start = load_average()
    source_db = Path(make_url(settings.database_url).database or "")
    if not settings.database_url.startswith("sqlite") or not source_db.is_file():
        raise SystemExit(f"the turn profile copies a SQLite customer store; {settings.database_url} is not one")
    spy = PY_SPY.is_file()
    if not spy:
        print(f"turn profile: {PY_SPY} is missing (`make bench-tools`): no per-hop split inside processes, no flame graphs")
    FLAME_DIR.mkdir(parents=True, exist_ok=True)
    rng = random.Random(15)
    with tempfile.TemporaryDirectory(prefix="shop-turn-profile-") as scratch:
        work = Path(scratch)
        bench_settings = dataclasses.replace(settings, database_url=copy_database(source_db, work / "customers.db"))
        customers = customers_with_orders(bench_settings.database_url, args.conversations)
        if not customers:
            raise SystemExit(f"no customer with orders in {source_db}; run `make demo-store`")
        tokens = [sign_customer_token(customer, bench_settings.store_secret) for customer in customers]
        ports = Ports.free()
        print("turn profile: starting the stack", flush=True)
        with running_stack(bench_settings, MODEL_PATH, ports, log_dir=work / "logs") as services:
            kinds, stacks = drive_web(services, f"http://127.0.0.1:{ports.web}", plan(rng, args.conversations), tokens,
                                      WARMUP, spy, FLAME_DIR)
            print("turn profile: Rasa's graph nodes, in process", flush=True)
            in_process = {} if args.skip_in_process else profile_rasa_in_process(
                bench_settings, ports, plan(rng, args.conversations), tokens, work)
    for kind, figures in kinds.items():
        if kind in stacks:
            figures["hops"] = hops(figures, stacks[kind])
            write_svg(stacks[kind], FLAME_DIR / f"{kind}.svg",
                      f"{kind}: web app, Rasa and action server, py-spy at {SAMPLE_RATE} Hz, {figures['turns']} turns")
        if kind in in_process:
            figures["rasa_in_process"] = in_process[kind]
    stock = None
    if args.stock_dir:
        print(f"turn profile: the stock `rasa init` bot in {args.stock_dir} (trained when absent)", flush=True)
        with stock_bot(args.stock_dir, stock_model(args.stock_dir)) as (url, service):
            stock = drive_stock(url, service.process.pid, plan(rng, args.conversations), WARMUP)  # type: ignore[union-attr]
    table = markdown(kinds, stock)
    path = write_result(
        "turn_profile",
        {"conversations": args.conversations, "warmup_conversations_not_counted": WARMUP, "kinds": kinds, "stock": stock,
         "flame_graphs": {kind: str((FLAME_DIR / f"{kind}.svg").relative_to(PROJECT_ROOT)) for kind in stacks},
         "markdown": table},
        load_at_start=load_at_start,
        notes=[
            "cpu_ms_per_turn: user + system CPU of each server's process group over the kind's counted turns, "
            "from /proc (10 ms ticks), divided by the turns; 'hops' splits it by the share of py-spy samples.",
            "rasa_in_process: the same model in Rasa's Agent in another process (.venv-rasa), fresh conversations of "
            "the same plan, the same action server; wall and CPU per graph node (process CPU, TensorFlow's threads included).",
            "Conversations in lockstep: every conversation's greeting, then every search, and so on.",
        ],
    )
    print(table)
    return path


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=None, help="store directory (default: the demo store)")
    parser.add_argument("--conversations", type=int, default=CONVERSATIONS,
                        help=f"conversations driven, the first {WARMUP} not counted")
    parser.add_argument("--skip-in-process", action="store_true", help="skip the per-node profile inside Rasa")
    parser.add_argument("--stock-dir", type=Path, default=None,
                        help="also drive a stock `rasa init` bot kept here (trained when absent) with the same messages")
    args = parser.parse_args(argv)
    if not MODEL_PATH.exists():
        raise SystemExit(f"no trained model at {MODEL_PATH}: run `make model`")
    try:
        path = run(load_settings(args.data_dir), args)
    except StackError as error:
        raise SystemExit(f"turn profile: {error}") from None
    print(f"wrote {path} and the flame graphs in {FLAME_DIR.relative_to(PROJECT_ROOT)}/")


if __name__ == "__main__":
    main()
