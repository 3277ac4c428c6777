"""Measure intent classification of a trained Rasa model on held-out and real shopper messages.

Runs in ``.venv-rasa`` (Rasa 3.6 lives there), because the holdout is read with Rasa's own
YAML loader and parsed through a real ``Agent``: the figure is what the running bot would
do, FallbackClassifier included, not what a re-implementation of the pipeline would do.

Three sets, reported side by side because they disagree:

* ``holdout``: ``tests/data/nlu_holdout.yml``, written by the team (same hands as the training
  data), so it flatters the model; results in ``--out`` (``bench/results/nlu.json``).
* ``tune`` and ``test``: real messages from public corpora (``bench/data/nlu_real/``, built by
  ``bench/data/nlu_real/build.py``); ``tune`` may guide choices (thresholds, epochs), ``test``
  must not. Results in ``--real-out`` (``bench/results/nlu_real.json``).

Each set carries a majority-class line and, with ``--previous-model``, the previous model's
figures beside the current one.

Scoring rules:

* ``nlu_fallback`` counts as correct for an ``out_of_scope`` item (the bot answers both
  with the same "I can't help with that" path) and as wrong for anything else.
* "Shopping intents" are those that make the bot act on the catalogue, the cart or an
  order. A nonsense message (marked ``metadata: {kind: nonsense}`` in the holdout) must
  never land in one; the share that does is reported and guarded by
  ``tests/test_nlu_holdout.py``.

* "Product-query recall": of the messages whose gold intent asks for products
  (``search_products``, ``recommend``), the share routed to an intent that answers with
  products (``search_products``, ``refine_search``, ``recommend``).
* Real sets contain intents the measured model may not have yet (``compare_products``,
  ``ask_product_question``...): they count as errors, and ``known_intents`` repeats the
  figures on the items whose gold intent is in the model's domain.

Usage::

    .venv-rasa/bin/python bench/nlu_eval.py [--model models/current.tar.gz]
        [--previous-model models/previous.tar.gz] [--sets holdout,tune,test]
        [--holdout tests/data/nlu_holdout.yml] [--real-dir bench/data/nlu_real]
        [--out bench/results/nlu.json] [--real-out bench/results/nlu_real.json]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import logging
import os
import platform
import sys
from collections.abc import Iterable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# The pipeline's own components (rasa_addons/) are imported by their dotted path in config.yml.
sys.path.insert(0, str(PROJECT_ROOT))
from bench.nlu_scoring import (  # noqa: E402 - run as a script, the project is on the path only from here
    NLU_FALLBACK,
    NONSENSE_KIND,
    HoldoutItem,
    Prediction,
    headline,
    known_intents,
    majority_class,
    summarize,
)

DEFAULT_MODEL = PROJECT_ROOT / "models" / "current.tar.gz"
DEFAULT_HOLDOUT = PROJECT_ROOT / "tests" / "data" / "nlu_holdout.yml"
DEFAULT_OUT = PROJECT_ROOT / "bench" / "results" / "nlu.json"
DEFAULT_REAL_DIR = PROJECT_ROOT / "bench" / "data" / "nlu_real"
DEFAULT_REAL_OUT = PROJECT_ROOT / "bench" / "results" / "nlu_real.json"
HOLDOUT_SET = "holdout"
REAL_SETS = ("tune", "test")


def load_holdout(path: Path) -> list[HoldoutItem]:
    """Reads the holdout with Rasa's loader, so the file is held to the training-data format."""
    from rasa.shared.nlu.training_data.loading import load_data

    items = []
    for message in load_data(str(path)).intent_examples:
        metadata = message.get("metadata") or {}
        kind = (metadata.get("intent") or {}).get("kind") or (metadata.get("example") or {}).get("kind")
        items.append(HoldoutItem(message.get("text"), message.get("intent"), kind == NONSENSE_KIND))
    return items


def _prediction(parsed: dict[str, Any]) -> Prediction:
    """Keeps the fallback decision and, behind it, the intent DIET actually ranked first."""
    intent = parsed.get("intent") or {}
    ranking = [r for r in parsed.get("intent_ranking") or [] if r.get("name") != NLU_FALLBACK]
    top = ranking[0] if ranking else intent
    return Prediction(
        intent=intent.get("name") or NLU_FALLBACK,
        confidence=float(intent.get("confidence") or 0.0),
        top_intent=top.get("name") or NLU_FALLBACK,
        top_confidence=float(top.get("confidence") or 0.0),
    )


def load_real(path: Path) -> list[HoldoutItem]:
    """One JSON object per line with ``text``, ``intent`` and ``source`` (see ``build.py``)."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [HoldoutItem(row["text"], row["intent"], False, row["source"]) for row in rows]


async def _parse_all(agent: Any, texts: Iterable[str]) -> list[Prediction]:
    return [_prediction(await agent.parse_message(text)) for text in texts]


def model_facts(model_path: Path, agent: Any) -> dict[str, Any]:
    """Identifies the model measured: file hash plus Rasa's own metadata."""
    digest = hashlib.sha256(model_path.read_bytes()).hexdigest()
    metadata = agent.processor.model_metadata
    trained_at = metadata.trained_at
    return {
        "path": str(model_path),
        "sha256": digest,
        "model_id": metadata.model_id,
        "trained_at": trained_at.isoformat() if hasattr(trained_at, "isoformat") else str(trained_at),
        "rasa_version_trained": metadata.rasa_open_source_version,
        "file_mtime": datetime.fromtimestamp(model_path.stat().st_mtime, timezone.utc).isoformat(),
    }


def machine_facts() -> dict[str, Any]:
    import rasa

    return {
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "rasa": rasa.__version__,
    }


def print_table(report: dict[str, Any]) -> None:
    """A short human summary; the JSON holds the rest."""
    print(
        f"items {report['items']}  accuracy {report['accuracy']:.3f}  macro F1 {report['macro_f1']:.3f}  "
        f"fallback rate {report['fallback_rate']:.3f}  out_of_scope recall {report['out_of_scope_recall']:.3f}  "
        f"nonsense->shopping {report['nonsense_in_shopping_intent_share']:.3f}  "
        f"product-query recall {report['product_query_recall']}"
    )
    for name, line in report["baselines"].items():
        print(f"  baseline {name}: accuracy {line['accuracy']:.3f}  macro F1 {line['macro_f1']:.3f}")
    print(f"{'intent':<22}{'prec':>7}{'rec':>7}{'f1':>7}{'n':>5}")
    for intent, s in sorted(report["per_intent"].items(), key=lambda kv: kv[1]["f1"]):
        print(f"{intent:<22}{s['precision']:>7.2f}{s['recall']:>7.2f}{s['f1']:>7.2f}{s['support']:>5}")
    print(f"misclassified ({len(report['misclassified'])}):")
    for m in report["misclassified"]:
        print(f"  {m['text']!r}: {m['expected']} -> {m['predicted']} ({m['confidence']:.2f})")


def quiet_rasa_logs() -> None:
    """Rasa logs every parsed message at debug level through structlog; keep only errors."""
    from rasa.utils.common import configure_logging_and_warnings
    from rasa.utils.log_utils import configure_structlog

    configure_logging_and_warnings(logging.ERROR)
    configure_structlog(logging.ERROR)


def load_sets(names: list[str], holdout_path: Path, real_dir: Path) -> dict[str, list[HoldoutItem]]:
    """The requested sets by name, in the order asked."""
    sets = {}
    for name in names:
        if name == HOLDOUT_SET:
            sets[name] = load_holdout(holdout_path)
        elif name in REAL_SETS:
            sets[name] = load_real(real_dir / f"{name}.jsonl")
        else:
            raise SystemExit(f"unknown set {name!r}: choose from {HOLDOUT_SET}, {', '.join(REAL_SETS)}")
    return sets


def predict(model_path: Path, sets: dict[str, list[HoldoutItem]]) -> tuple[dict[str, list[Prediction]], Any]:
    """Parses every message of every set with one loaded model; returns predictions and the agent."""
    from rasa.core.agent import Agent

    agent = Agent.load(str(model_path))
    return {name: asyncio.run(_parse_all(agent, (i.text for i in items))) for name, items in sets.items()}, agent


def evaluate(
    model_path: Path,
    sets: dict[str, list[HoldoutItem]],
    previous_model: Path | None = None,
) -> dict[str, dict[str, Any]]:
    """The full report of every set, each with its majority-class and previous-model lines."""
    predictions, agent = predict(model_path, sets)
    facts = model_facts(model_path, agent)
    domain_intents = set(agent.domain.intents)
    del agent
    previous: dict[str, list[Prediction]] = {}
    previous_facts = None
    if previous_model is not None:
        previous, previous_agent = predict(previous_model, sets)
        previous_facts = model_facts(previous_model, previous_agent)
        del previous_agent
    measured_at = datetime.now(timezone.utc).isoformat()
    reports = {}
    for name, items in sets.items():
        report = summarize(items, predictions[name])
        report["known_intents"] = known_intents(items, predictions[name], domain_intents)
        report["baselines"] = {"majority_class": majority_class(items)}
        if previous_facts is not None:
            report["baselines"]["previous_model"] = headline(summarize(items, previous[name])) | {
                "model": previous_facts
            }
        report["measured_at"] = measured_at
        report["model"] = facts
        report["machine"] = machine_facts()
        reports[name] = report
    return reports


def write_json(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    parser.add_argument("--previous-model", type=Path, help="a baseline model measured on the same sets")
    parser.add_argument(
        "--sets", default=",".join((HOLDOUT_SET, *REAL_SETS)), help="comma-separated: holdout,tune,test"
    )
    parser.add_argument("--holdout", type=Path, default=DEFAULT_HOLDOUT)
    parser.add_argument("--real-dir", type=Path, default=DEFAULT_REAL_DIR)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="holdout report")
    parser.add_argument("--real-out", type=Path, default=DEFAULT_REAL_OUT, help="tune/test report")
    parser.add_argument("--quiet", action="store_true", help="print only the summary line")
    args = parser.parse_args(argv)
    for model in (args.model, args.previous_model):
        if model is not None and not model.is_file():
            print(f"model not found: {model}", file=sys.stderr)
            return 2
    # Run as a script, Python puts bench/ first on sys.path, not the project: a model whose
    # pipeline names a project component (rasa_addons.*) could not be loaded without this.
    sys.path.insert(0, str(PROJECT_ROOT))
    quiet_rasa_logs()
    sets = load_sets([name.strip() for name in args.sets.split(",") if name.strip()], args.holdout, args.real_dir)
    reports = evaluate(args.model, sets, args.previous_model)
    if HOLDOUT_SET in reports:
        write_json(args.out, reports[HOLDOUT_SET] | {"holdout": str(args.holdout)})
    real = {
        name: report | {"data": str(args.real_dir / f"{name}.jsonl")}
        for name, report in reports.items()
        if name in REAL_SETS
    }
    if real:
        write_json(args.real_out, {"sets": real})
    for name, report in reports.items():
        if args.quiet:
            keys = ("items", "accuracy", "macro_f1", "nonsense_in_shopping_intent_share")
            print(json.dumps({"set": name} | {k: report[k] for k in keys}))
        else:
            print(f"== {name}")
            print_table(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
