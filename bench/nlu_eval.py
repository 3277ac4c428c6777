"""Measure intent classification of a trained Rasa model on the held-out shopper messages.

Runs in ``.venv-rasa`` (Rasa 3.6 lives there), because the holdout is read with Rasa's own
YAML loader and parsed through a real ``Agent``: the figure is what the running bot would
do, FallbackClassifier included, not what a re-implementation of the pipeline would do.

Scoring rules:

* ``nlu_fallback`` counts as correct for an ``out_of_scope`` item (the bot answers both
  with the same "I can't help with that" path) and as wrong for anything else.
* "Shopping intents" are those that make the bot act on the catalogue, the cart or an
  order. A nonsense message (marked ``metadata: {kind: nonsense}`` in the holdout) must
  never land in one; the share that does is reported and guarded by
  ``tests/test_nlu_holdout.py``.

Usage::

    .venv-rasa/bin/python bench/nlu_eval.py [--model models/current.tar.gz]
        [--holdout tests/data/nlu_holdout.yml] [--out bench/results/nlu.json]
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
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# The pipeline's own components (rasa_addons/) are imported by their dotted path in config.yml.
sys.path.insert(0, str(PROJECT_ROOT))
DEFAULT_MODEL = PROJECT_ROOT / "models" / "current.tar.gz"
DEFAULT_HOLDOUT = PROJECT_ROOT / "tests" / "data" / "nlu_holdout.yml"
DEFAULT_OUT = PROJECT_ROOT / "bench" / "results" / "nlu.json"

OUT_OF_SCOPE = "out_of_scope"
NLU_FALLBACK = "nlu_fallback"
NONSENSE_KIND = "nonsense"
SHOPPING_INTENTS = frozenset(
    {
        "search_products",
        "refine_search",
        "show_more",
        "product_details",
        "recommend",
        "add_to_cart",
        "view_cart",
        "remove_from_cart",
        "order_status",
        "cancel_order",
    }
)


@dataclass(frozen=True)
class HoldoutItem:
    """One labelled message; ``nonsense`` marks keyboard mash and foreign-language lines."""

    text: str
    intent: str
    nonsense: bool


@dataclass(frozen=True)
class Prediction:
    """What the model said: the final intent (maybe ``nlu_fallback``) and the best real one."""

    intent: str
    confidence: float
    top_intent: str
    top_confidence: float


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


async def _parse_all(agent: Any, texts: Iterable[str]) -> list[Prediction]:
    return [_prediction(await agent.parse_message(text)) for text in texts]


def is_correct(item: HoldoutItem, prediction: Prediction) -> bool:
    """Exact intent match, with ``nlu_fallback`` accepted for out_of_scope items."""
    if item.intent == OUT_OF_SCOPE and prediction.intent == NLU_FALLBACK:
        return True
    return prediction.intent == item.intent


def scored_label(item: HoldoutItem, prediction: Prediction) -> str:
    """The predicted label as scored: fallback on an out_of_scope item counts as out_of_scope."""
    return item.intent if is_correct(item, prediction) else prediction.intent


def per_intent_scores(gold: list[str], predicted: list[str]) -> dict[str, dict[str, float]]:
    """Precision, recall, F1 and support for every gold intent."""
    scores = {}
    for intent in sorted(set(gold)):
        tp = sum(1 for g, p in zip(gold, predicted, strict=True) if g == intent and p == intent)
        fp = sum(1 for g, p in zip(gold, predicted, strict=True) if g != intent and p == intent)
        fn = sum(1 for g, p in zip(gold, predicted, strict=True) if g == intent and p != intent)
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        scores[intent] = {
            "precision": round(precision, 4),
            "recall": round(recall, 4),
            "f1": round(f1, 4),
            "support": tp + fn,
        }
    return scores


def summarize(items: list[HoldoutItem], predictions: list[Prediction]) -> dict[str, Any]:
    """All figures of one run, from the items and the model's predictions in the same order."""
    gold = [item.intent for item in items]
    predicted = [scored_label(i, p) for i, p in zip(items, predictions, strict=True)]
    per_intent = per_intent_scores(gold, predicted)
    correct = sum(1 for g, p in zip(gold, predicted, strict=True) if g == p)
    oos = [(i, p) for i, p in zip(items, predictions, strict=True) if i.intent == OUT_OF_SCOPE]
    nonsense = [(i, p) for i, p in oos if i.nonsense]
    nonsense_shopping = [i.text for i, p in nonsense if p.intent in SHOPPING_INTENTS]
    oos_shopping = [i.text for i, p in oos if p.intent in SHOPPING_INTENTS]
    misclassified = [
        {
            "text": i.text,
            "expected": i.intent,
            "predicted": p.intent,
            "confidence": round(p.confidence, 4),
            "top_intent": p.top_intent,
            "top_confidence": round(p.top_confidence, 4),
        }
        for i, p in zip(items, predictions, strict=True)
        if not is_correct(i, p)
    ]
    return {
        "items": len(items),
        "accuracy": round(correct / len(items), 4),
        "macro_f1": round(sum(s["f1"] for s in per_intent.values()) / len(per_intent), 4),
        "fallback_rate": round(sum(p.intent == NLU_FALLBACK for p in predictions) / len(items), 4),
        "out_of_scope_recall": per_intent.get(OUT_OF_SCOPE, {}).get("recall", 0.0),
        "nonsense_items": len(nonsense),
        "nonsense_in_shopping_intent_share": round(len(nonsense_shopping) / len(nonsense), 4) if nonsense else 0.0,
        "nonsense_in_shopping_intent": nonsense_shopping,
        "out_of_scope_in_shopping_intent": oos_shopping,
        "confusions": [
            {"expected": g, "predicted": p, "count": n}
            for (g, p), n in Counter((m["expected"], m["predicted"]) for m in misclassified).most_common()
        ],
        "per_intent": per_intent,
        "misclassified": misclassified,
    }


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
        f"nonsense->shopping {report['nonsense_in_shopping_intent_share']:.3f}"
    )
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


def evaluate(model_path: Path, holdout_path: Path) -> dict[str, Any]:
    """Loads the model, parses every holdout message and returns the full report."""
    from rasa.core.agent import Agent

    items = load_holdout(holdout_path)
    agent = Agent.load(str(model_path))
    predictions = asyncio.run(_parse_all(agent, (item.text for item in items)))
    report = summarize(items, predictions)
    report["holdout"] = str(holdout_path)
    report["measured_at"] = datetime.now(timezone.utc).isoformat()
    report["model"] = model_facts(model_path, agent)
    report["machine"] = machine_facts()
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    parser.add_argument("--holdout", type=Path, default=DEFAULT_HOLDOUT)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--quiet", action="store_true", help="print only the summary line")
    args = parser.parse_args(argv)
    if not args.model.is_file():
        print(f"model not found: {args.model}", file=sys.stderr)
        return 2
    quiet_rasa_logs()
    report = evaluate(args.model, args.holdout)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    if args.quiet:
        print(
            json.dumps({k: report[k] for k in ("items", "accuracy", "macro_f1", "nonsense_in_shopping_intent_share")})
        )
    else:
        print_table(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
