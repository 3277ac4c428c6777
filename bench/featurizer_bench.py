"""What the MiniLM featurizer adds to every message the bot parses, in milliseconds.

Runs in ``.venv-rasa`` (the featurizer runs inside Rasa). Three figures, measured in the same
run so that the machine's load at the time weighs on all of them alike:

* ``featurizer``: ``MiniLMFeaturizer.process`` on one message at a time, as the server calls
  it, with 1 and 2 ONNX Runtime threads;
* ``parse``: a full ``Agent.parse_message`` of the trained model (tokenizer, all featurizers,
  DIET, fallback), the reference the added milliseconds are compared against, interleaved
  with featurizer calls (``featurizer_same_window``) so that both see the same load;
* ``training_batch``: the per-message cost when the whole training set is encoded in batches.

Usage::

    .venv-rasa/bin/python bench/featurizer_bench.py [--model models/current.tar.gz]
        [--out bench/results/featurizer.json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import platform
import statistics
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

DEFAULT_MODEL = PROJECT_ROOT / "models" / "current.tar.gz"
DEFAULT_OUT = PROJECT_ROOT / "bench" / "results" / "featurizer.json"
# Shopper messages of typical lengths, written for this benchmark.
MESSAGES = [
    "hi",
    "where is my order",
    "running shoes under $80",
    "how long does delivery to canada usually take?",
    "i need something with a good camera and fast",
    "do you have any romance book you could recommend me for her?",
    "I ordered a sofa two weeks ago and the tracking page still says processing, can you check what is going on?",
    "whats the weather like tomorrow",
]
ROUNDS = 25


def _summary(samples_ms: list[float]) -> dict[str, float]:
    ordered = sorted(samples_ms)
    return {
        "p50_ms": round(statistics.median(ordered), 2),
        "p95_ms": round(ordered[int(0.95 * (len(ordered) - 1))], 2),
        "mean_ms": round(statistics.fmean(ordered), 2),
        "samples": len(ordered),
    }


def time_featurizer(num_threads: int) -> dict[str, float]:
    """One message per call, as ``rasa run`` featurizes an incoming message."""
    from rasa.shared.nlu.training_data.message import Message

    from rasa_addons.minilm_featurizer import MiniLMFeaturizer

    featurizer = MiniLMFeaturizer({**MiniLMFeaturizer.get_default_config(), "num_threads": num_threads}, "bench")
    featurizer.process([Message(data={"text": "warm up"})])
    samples = []
    for _ in range(ROUNDS):
        for text in MESSAGES:
            message = Message(data={"text": text})
            start = time.perf_counter()
            featurizer.process([message])
            samples.append((time.perf_counter() - start) * 1000)
    return _summary(samples)


def time_training_batch() -> dict[str, float]:
    """Per-message cost of featurizing the project's NLU training data in batches."""
    from rasa.shared.importers.importer import TrainingDataImporter

    from rasa_addons.minilm_featurizer import MiniLMFeaturizer

    importer = TrainingDataImporter.load_from_dict(
        domain_path=str(PROJECT_ROOT / "domain"), training_data_paths=[str(PROJECT_ROOT / "data")]
    )
    training_data = importer.get_nlu_data()
    featurizer = MiniLMFeaturizer({**MiniLMFeaturizer.get_default_config(), "num_threads": 2}, "bench")
    start = time.perf_counter()
    featurizer.process_training_data(training_data)
    seconds = time.perf_counter() - start
    count = len(training_data.training_examples)
    return {"messages": count, "seconds": round(seconds, 2), "per_message_ms": round(seconds * 1000 / count, 2)}


def time_parse_beside_featurizer(model: Path) -> dict[str, dict[str, float]]:
    """Full parses through the trained model and featurizer calls, interleaved message by message.

    Interleaving puts both under the same machine load, so their ratio holds even on a busy machine.
    """
    from rasa.core.agent import Agent
    from rasa.shared.nlu.training_data.message import Message

    from rasa_addons.minilm_featurizer import MiniLMFeaturizer

    agent = Agent.load(str(model))
    featurizer = MiniLMFeaturizer(MiniLMFeaturizer.get_default_config(), "bench")

    async def run() -> tuple[list[float], list[float]]:
        await agent.parse_message("warm up")
        parse, featurize = [], []
        for _ in range(ROUNDS):
            for text in MESSAGES:
                start = time.perf_counter()
                featurizer.process([Message(data={"text": text})])
                featurize.append((time.perf_counter() - start) * 1000)
                start = time.perf_counter()
                await agent.parse_message(text)
                parse.append((time.perf_counter() - start) * 1000)
        return parse, featurize

    parse, featurize = asyncio.run(run())
    return {"parse": _summary(parse), "featurizer_same_window": _summary(featurize)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    from rasa.utils.common import configure_logging_and_warnings
    from rasa.utils.log_utils import configure_structlog

    configure_logging_and_warnings(logging.ERROR)
    configure_structlog(logging.ERROR)
    report: dict[str, Any] = {
        "measured_at": datetime.now(timezone.utc).isoformat(),
        "machine": {
            "cpu_count": os.cpu_count(),
            "platform": platform.platform(),
            "load_average_1m_at_start": round(os.getloadavg()[0], 2),
        },
        "featurizer_1_thread": time_featurizer(1),
        "featurizer_2_threads": time_featurizer(2),
        "training_batch": time_training_batch(),
    }
    if args.model.is_file():
        report.update(time_parse_beside_featurizer(args.model))
        report["featurizer_share_of_parse_p50"] = round(
            report["featurizer_same_window"]["p50_ms"] / report["parse"]["p50_ms"], 3
        )
    report["machine"]["load_average_1m_at_end"] = round(os.getloadavg()[0], 2)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
