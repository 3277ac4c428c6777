"""Turns per second and p50/p95 at 20 concurrent conversations: the demo profile beside the
production profile with 1 and with 2 replicas of each server (issue #11.7), on this machine.

Run as ``python -m bench.load_replicas`` (``make bench``). The client and the shopping mix are
bench/load_bench.py's (``drive``: a closed loop of ``--concurrency`` virtual shoppers, each
through the web app's ``POST /api/chat`` with a cookie jar of its own), the stacks one after
the other, never two at once:

- **demo**: ``make demo``'s stack (one process of each server) on a copy of the demo
  customer store;
- **production, N = 1 and 2**: ``up --profile production --replicas N`` (N Rasa, N action
  servers, N web apps behind HAProxy) on a production profile of its own
  (bench/production_scratch.py: fresh PostgreSQL databases with the demo history, a
  RabbitMQ exchange and queue, fresh secrets), the servers from ``--postgres-url``,
  ``--redis-url`` and ``--rabbitmq-url`` (loopback by default, as the test suite's).

The machine is shared, so each configuration records the load average before and after it.
Writes bench/results/load_replicas.json and load_replicas.png.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from assistant.launcher import StackError
from assistant.settings import Settings, load_settings
from bench.common import RESULTS_DIR, load_average, write_result
from bench.load_bench import CONCURRENCY, MODEL_PATH, drive, our_stack, rasa_pids, web_app_turn
from bench.production_scratch import scratch_production, unreachable

CONFIGURATIONS = (("demo", 1), ("production", 1), ("production", 2))
DURATION = 60.0
WARMUP = 30.0
DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/2"
DEFAULT_RABBITMQ_URL = "amqp://guest:guest@127.0.0.1:5672/"


def measure(settings: Settings, profile: str, replicas: int, args: argparse.Namespace, work: Path) -> dict[str, Any]:
    """Start one configuration, drive it, stop it: its figures with the load around them."""
    label = f"{profile}, {replicas} of each server"
    scratch = work / f"{profile}-{replicas}"
    scratch.mkdir(parents=True)
    before = load_average()
    print(f"load replicas: starting {label}", flush=True)
    started = time.monotonic()
    with our_stack(settings, profile, replicas, scratch, scratch / "logs") as (url, services):
        startup = time.monotonic() - started
        print(f"load replicas: driving {label} at {args.concurrency} conversations", flush=True)
        figures = drive(web_app_turn(url), args.concurrency, args.duration, args.warmup, rasa_pids(services))
    return {"what": label, "profile": profile, "replicas": replicas, "startup_seconds": round(startup, 1), **figures,
            "load_average_1_5_15_before": before, "load_average_1_5_15_after": load_average()}


def run(args: argparse.Namespace) -> Path:
    load_at_start = load_average()
    demo = load_settings(args.data_dir, profile="demo")
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="shop-load-replicas-") as directory:
        work = Path(directory)
        for profile, replicas in CONFIGURATIONS:
            if profile == "demo":
                results.append(measure(demo, profile, replicas, args, work))
                continue
            with scratch_production(demo, work / f"store-{replicas}", args.postgres_url, args.redis_url,
                                    args.rabbitmq_url) as settings:
                results.append(measure(settings, profile, replicas, args, work))
    path = write_result(
        args.result_name, {"concurrency": args.concurrency, "cpus": os.cpu_count(), "configurations": results},
        load_at_start=load_at_start,
        notes=[
            "Closed loop, bench/load_bench.py's client and 8-message shopping mix through POST /api/chat; turns count "
            "when started and finished inside the measured window; the warm-up's turns (first searches load the "
            "embedding model and index in each action server) are not counted.",
            "Every process of every configuration, and this client, share the same cores (cpus): replicas here "
            "add processes, not CPUs.",
            "The production profile adds PostgreSQL (tracker and customer store), Redis (locks) and RabbitMQ "
            "(events) round trips and HAProxy hops to every turn; the demo profile keeps them in memory and SQLite.",
        ],
    )
    plot(results, path.with_suffix(".png"))
    return path


def plot(results: list[dict[str, Any]], path: Path) -> None:
    """Turns/s and p50/p95 of each configuration side by side."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = [f"{r['profile']}\n{r['replicas']} of each" for r in results]
    figure, (throughput, latency) = plt.subplots(1, 2, figsize=(10, 4))
    throughput.bar(labels, [r["turns_per_second"] for r in results], color="#1f77b4")
    throughput.set_ylabel("turns / s")
    throughput.set_title(f"{results[0]['concurrency']} concurrent conversations")
    width = 0.38
    for offset, (q, color) in enumerate(((50, "#1f77b4"), (95, "#ff7f0e"))):
        latency.bar([i + offset * width for i in range(len(results))], [r.get(f"p{q}_ms") or 0 for r in results],
                    width, label=f"p{q}", color=color)
    latency.set_xticks([i + width / 2 for i in range(len(results))], labels)
    latency.set_ylabel("ms per turn")
    latency.legend()
    loads = ", ".join(str((r["load_average_1_5_15_before"] or [None])[0]) for r in results)
    figure.suptitle(f"demo vs production replicas on {os.cpu_count()} shared cores (1-min load before each: {loads})")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=None, help="the demo store directory (default: the demo store)")
    parser.add_argument("--concurrency", type=int, default=CONCURRENCY, help="conversations in flight at once")
    parser.add_argument("--duration", type=float, default=DURATION, help="measured seconds per configuration")
    parser.add_argument("--warmup", type=float, default=WARMUP, help="seconds of load before measuring")
    parser.add_argument("--postgres-url", default=os.environ.get("SHOP_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL),
                        help="a PostgreSQL account that may create databases (default: SHOP_TEST_POSTGRES_URL or loopback)")
    parser.add_argument("--redis-url", default=os.environ.get("SHOP_TEST_REDIS_URL", DEFAULT_REDIS_URL),
                        help="Redis for the locks and the web apps (default: SHOP_TEST_REDIS_URL or loopback db 2)")
    parser.add_argument("--rabbitmq-url", default=os.environ.get("SHOP_TEST_RABBITMQ_URL", DEFAULT_RABBITMQ_URL),
                        help="RabbitMQ for Rasa's events (default: SHOP_TEST_RABBITMQ_URL or loopback guest)")
    parser.add_argument("--result-name", default="load_replicas", help="bench/results/<name>.json and .png")
    args = parser.parse_args(argv)
    if not MODEL_PATH.exists():
        raise SystemExit(f"no trained model at {MODEL_PATH}: run `make model`")
    missing = [f"{name} at {url}: {problem}" for name, url in
               (("PostgreSQL", args.postgres_url), ("Redis", args.redis_url), ("RabbitMQ", args.rabbitmq_url))
               if (problem := unreachable(name, url))]
    if not (shutil.which("haproxy") or Path("/usr/sbin/haproxy").exists()):
        missing.append("HAProxy: not installed (make haproxy)")
    if missing:
        raise SystemExit("load replicas: the production profile needs " + "; ".join(missing))
    try:
        path = run(args)
    except StackError as error:
        raise SystemExit(f"load replicas: {error}") from None
    print(f"wrote {path} and {path.with_suffix('.png').relative_to(RESULTS_DIR.parent.parent)}")


if __name__ == "__main__":
    main()
