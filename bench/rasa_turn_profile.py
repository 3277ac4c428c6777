"""Where one turn's time and CPU go inside Rasa: each NLU component, each policy, the action call.

Runs in ``.venv-rasa`` (started by ``bench/turn_profile.py``, which writes the conversations
and runs the action server). Rasa's server does not time its graph nodes, so the trained
model is loaded here with Rasa's own ``Agent`` and driven with the same conversations through
``Agent.handle_message`` (the path ``rasa run`` takes for a channel message), calling the real
action server. Each graph node (``GraphNode.__call__``: tokenizer, featurizers, DIET, each
policy...), the action server's HTTP round trip, and Rasa's own side of an action call
(serialising the tracker and domain, validating the answer) are wrapped with a wall clock and
the process CPU clock. Everything runs one message at a time, so the process CPU during a node
is that node's (TensorFlow's own threads included).

Usage (``bench/turn_profile.py`` does this)::

    .venv-rasa/bin/python bench/rasa_turn_profile.py --model models/current.tar.gz \\
        --conversations conversations.json --action-url http://127.0.0.1:5055/webhook --out rasa.json

``conversations.json``: ``{"warmup": N, "conversations": [{"customer_token": str | null,
"turns": [{"kind": "greet", "text": "hi"}, ...]}, ...]}``; the first N conversations are not counted.
The action server's token is read from ``ACTION_SERVER_TOKEN``.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import logging
import os
import statistics
import sys
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))  # the pipeline's own components (rasa_addons/)

ACTION_ROUND_TRIP = "action server round trip (HTTP)"
ACTION_RASA_SIDE = "action call, Rasa side (tracker + domain to JSON, answer validated)"


class Clock:
    """Wall and CPU seconds per named step, collected for the message being handled."""

    def __init__(self) -> None:
        self.current: dict[str, list[float]] | None = None

    def add(self, name: str, wall: float, cpu: float) -> None:
        if self.current is not None:
            totals = self.current.setdefault(name, [0.0, 0.0, 0])
            totals[0] += wall
            totals[1] += cpu
            totals[2] += 1


CLOCK = Clock()


def timed_sync(name_of: Callable[..., str], function: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            return function(*args, **kwargs)
        finally:
            CLOCK.add(name_of(*args), time.perf_counter() - wall, time.process_time() - cpu)

    return wrapper


def timed_async(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(function)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            return await function(*args, **kwargs)
        finally:
            CLOCK.add(name, time.perf_counter() - wall, time.process_time() - cpu)

    return wrapper


def instrument() -> None:
    """Wrap the graph's nodes and the action call with clocks (this process only)."""
    from rasa.core.actions.action import RemoteAction
    from rasa.engine.graph import GraphNode
    from rasa.utils.endpoints import EndpointConfig

    GraphNode.__call__ = timed_sync(lambda node, *_: f"node {node._node_name}", GraphNode.__call__)
    EndpointConfig.request = timed_async(ACTION_ROUND_TRIP, EndpointConfig.request)
    for method in ("_action_call_format", "_validate_action_result"):
        setattr(RemoteAction, method, timed_sync(lambda *_: ACTION_RASA_SIDE, getattr(RemoteAction, method)))


def summarise(samples: list[dict[str, list[float]]]) -> dict[str, Any]:
    """Median wall and CPU ms per turn of every step (0 for a turn where the step did not run)."""
    names = sorted({name for sample in samples for name in sample})
    steps = {}
    for name in names:
        walls = [sample.get(name, [0.0, 0.0, 0])[0] * 1000 for sample in samples]
        cpus = [sample.get(name, [0.0, 0.0, 0])[1] * 1000 for sample in samples]
        calls = [sample.get(name, [0.0, 0.0, 0])[2] for sample in samples]
        steps[name] = {
            "wall_ms_median": round(statistics.median(walls), 2),
            "wall_ms_mean": round(statistics.fmean(walls), 2),
            "cpu_ms_mean": round(statistics.fmean(cpus), 2),
            "calls_per_turn": round(statistics.fmean(calls), 2),
        }
    return steps


async def drive(agent: Any, plan: dict[str, Any]) -> dict[str, list[dict[str, list[float]]]]:
    """Every turn of every conversation through ``Agent.handle_message``; clocks per counted turn."""
    from rasa.core.channels.channel import CollectingOutputChannel, UserMessage

    by_kind: dict[str, list[dict[str, list[float]]]] = defaultdict(list)
    for number, conversation in enumerate(plan["conversations"]):
        sender = f"profile-{uuid.uuid4().hex[:12]}"
        metadata: dict[str, Any] = {"channel": "web"}
        if conversation.get("customer_token"):
            metadata["customer_token"] = conversation["customer_token"]
        for turn in conversation["turns"]:
            CLOCK.current = {}
            wall, cpu = time.perf_counter(), time.process_time()
            await agent.handle_message(UserMessage(turn["text"], CollectingOutputChannel(), sender, metadata=metadata))
            CLOCK.add("whole turn (handle_message)", time.perf_counter() - wall, time.process_time() - cpu)
            if number >= plan["warmup"]:
                by_kind[turn["kind"]].append(CLOCK.current)
            CLOCK.current = None
    return by_kind


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, required=True, help="the trained model (.tar.gz)")
    parser.add_argument("--conversations", type=Path, required=True, help="the conversations to drive (JSON)")
    parser.add_argument("--action-url", required=True, help="the running action server's /webhook URL")
    parser.add_argument("--out", type=Path, required=True, help="where the per-step figures go (JSON)")
    args = parser.parse_args(argv)
    from rasa.core.agent import Agent
    from rasa.utils.common import configure_logging_and_warnings
    from rasa.utils.endpoints import EndpointConfig
    from rasa.utils.log_utils import configure_structlog

    configure_logging_and_warnings(logging.ERROR)
    configure_structlog(logging.ERROR)
    token = os.environ.get("ACTION_SERVER_TOKEN", "")
    endpoint = EndpointConfig(args.action_url, headers={"Authorization": f"Bearer {token}"})
    instrument()
    agent = Agent.load(str(args.model), action_endpoint=endpoint)
    plan = json.loads(args.conversations.read_text(encoding="utf-8"))
    by_kind = asyncio.run(drive(agent, plan))
    report = {kind: {"turns": len(samples), "steps": summarise(samples)} for kind, samples in by_kind.items()}
    args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
