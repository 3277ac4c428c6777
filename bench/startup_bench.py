"""From `shop-assistant up` to ready, and each server's resident memory once warm (#15.5, #15.7).

Starts the demo-profile stack exactly as ``shop-assistant up`` does (``running_stack``, on a
copy of the customer store) once per embedding backend, and records:

* ``startup_seconds``: per process, from its start until its health URL answered (the launcher
  starts the three together); ``healthy_seconds`` all of them; ``ready_seconds`` until the web
  app's ``/readyz`` said every part is up (Rasa's model, the action server and its catalog
  index, which the web app's search uses since #15.7, the customer store);
* ``cpu_seconds_until_ready``: per process, the CPU time it used until then; on a shared machine
  the wall times measure the neighbours as much as the stack, the CPU times do not;
* ``first_turn_seconds``: each message of one shopping conversation sent right after ready (what
  the first shopper waits for while lazily loaded parts load), and the same conversation again;
* ``resident_mib``: each server's resident memory (its whole process group) at ready and after
  the conversations.

Writes ``bench/results/startup.json``.

    python -m bench.startup_bench [--data-dir var/demo] [--backends onnx,torch]
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import random
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import aiohttp

from assistant.settings import PROJECT_ROOT, Settings, load_settings
from bench.common import load_average, write_result
from bench.load_bench import KINDS, our_stack, shopping_mix, web_app_turn
from bench.processes import cpu_seconds, process_memory
from bench.search_bench import shopper_queries
from catalog_index.embedder import BACKENDS

NAME = "startup"
READY_TIMEOUT = 600.0


def wait_ready(url: str, timeout: float = READY_TIMEOUT) -> None:
    """Poll ``url`` (a ``/readyz``) until it answers 200."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.25)
    raise TimeoutError(f"{url} not ready within {timeout:.0f} s")


def one_conversation(base_url: str, seed: int) -> dict[str, float]:
    """Seconds each message of one shopping conversation took, by kind."""
    turn = web_app_turn(base_url)
    messages = shopping_mix(random.Random(seed), shopper_queries())

    async def run() -> dict[str, float]:
        seconds: dict[str, float] = {}
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
            for kind, text in zip(KINDS, messages, strict=True):
                started = time.monotonic()
                await turn(session, f"startup-{seed}", text)
                seconds[kind] = round(time.monotonic() - started, 3)
        return seconds

    return asyncio.run(run())


def measure(settings: Settings, backend: str) -> dict[str, Any]:
    """Start the stack with ``backend`` embeddings and time it to ready, then through two conversations."""
    settings = dataclasses.replace(settings, embed_backend=backend)
    with tempfile.TemporaryDirectory(prefix="shop-startup-bench-") as scratch:
        work = Path(scratch)
        started = time.monotonic()
        with our_stack(settings, "demo", 1, work, work / "logs") as (url, services):
            healthy = time.monotonic() - started
            wait_ready(f"{url}/readyz")
            ready = time.monotonic() - started
            at_ready = process_memory(services)
            cpu_at_ready = {service.name: round(cpu_seconds(service.process.pid), 1) for service in services if service.process}
            first = one_conversation(url, seed=1)
            again = one_conversation(url, seed=2)
            return {
                "startup_seconds": {service.name: round(service.healthy_seconds or 0.0, 2) for service in services},
                "healthy_seconds": round(healthy, 2),
                "ready_seconds": round(ready, 2),
                "cpu_seconds_until_ready": cpu_at_ready,
                "first_turn_seconds": first,
                "second_conversation_seconds": again,
                "resident_mib": {"at_ready": at_ready, "after_two_conversations": process_memory(services)},
            }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", type=Path, default=PROJECT_ROOT / "var" / "demo", help="a built demo store")
    parser.add_argument("--backends", default=",".join(BACKENDS),
                        help=f"embedding backends to start the stack with, comma-separated (of {', '.join(BACKENDS)})")
    parser.add_argument("--no-write", action="store_true", help="print the figures only")
    args = parser.parse_args(argv)
    settings = load_settings(args.data_dir)
    load_at_start = load_average()
    figures = {}
    for backend in args.backends.split(","):
        print(f"startup bench: the stack with {backend} embeddings", flush=True)
        figures[backend] = measure(settings, backend)
        print(figures[backend], flush=True)
    if not args.no_write:
        path = write_result(NAME, {"by_embedding_backend": figures}, load_at_start=load_at_start, notes=[
            "Demo profile, one process of each server, started together as `shop-assistant up` starts them.",
            "startup_seconds: per process, start to its health URL answering; ready_seconds: to /readyz 200.",
            "resident_mib: each server's process group (VmRSS), the Rasa server included.",
        ])
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
