"""Choose the FallbackClassifier thresholds on a tuning set, from one parse of each message.

Runs in ``.venv-rasa``. Every message of the tuning set is parsed once by the trained model;
the DIET intent ranking (without ``nlu_fallback``) is kept, and the fallback rule
(``top < threshold`` or ``top - second < ambiguity_threshold`` gives ``nlu_fallback``) is then
replayed for every pair of thresholds in the grid. Scoring follows ``bench/nlu_eval.py``:
``nlu_fallback`` is right for an ``out_of_scope`` message and wrong for any other.

Only a tuning split may be given (``bench/data/nlu_real/tune.jsonl``, or the team holdout):
a path naming a test split is refused, so the test figures stay unseen until the end.

Usage::

    .venv-rasa/bin/python bench/nlu_threshold_sweep.py [--model models/current.tar.gz]
        [--data bench/data/nlu_real/tune.jsonl] [--out bench/results/nlu_threshold_sweep.json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

DEFAULT_MODEL = PROJECT_ROOT / "models" / "current.tar.gz"
DEFAULT_DATA = PROJECT_ROOT / "bench" / "data" / "nlu_real" / "tune.jsonl"
DEFAULT_OUT = PROJECT_ROOT / "bench" / "results" / "nlu_threshold_sweep.json"
THRESHOLDS = [round(0.05 * i, 2) for i in range(2, 17)]
AMBIGUITY = [0.0, 0.02, 0.05, 0.08, 0.1, 0.15]
OUT_OF_SCOPE = "out_of_scope"
NLU_FALLBACK = "nlu_fallback"


def load_items(path: Path) -> list[tuple[str, str]]:
    """(text, intent) pairs from a JSON-lines tuning split or a Rasa YAML holdout."""
    if "test" in path.name:
        raise SystemExit(f"refusing {path}: thresholds are tuned on a tuning split, never on a test split")
    if path.suffix == ".jsonl":
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        return [(row["text"], row["intent"]) for row in rows]
    from rasa.shared.nlu.training_data.loading import load_data

    return [(m.get("text"), m.get("intent")) for m in load_data(str(path)).intent_examples]


async def rankings(
    model: Path, items: list[tuple[str, str]]
) -> tuple[list[tuple[str, str]], list[list[tuple[str, float]]]]:
    """The items whose intent the model knows, and DIET's ranking for each (``nlu_fallback`` removed).

    Items of intents the model has not got (yet) are left out: they would push the
    thresholds towards catching messages the merged model will classify.
    """
    from rasa.core.agent import Agent

    agent = Agent.load(str(model))
    known = set(agent.domain.intents)
    items = [item for item in items if item[1] in known]
    texts = [text for text, _ in items]
    out = []
    for text in texts:
        parsed = await agent.parse_message(text)
        ranking = [(r["name"], float(r["confidence"])) for r in parsed.get("intent_ranking", [])]
        out.append([r for r in ranking if r[0] != NLU_FALLBACK])
    return items, out


def replay(
    items: list[tuple[str, str]], ranked: list[list[tuple[str, float]]], threshold: float, ambiguity: float
) -> dict[str, Any]:
    """Accuracy, out-of-scope recall and false fallbacks of one threshold pair."""
    correct = oos_total = oos_caught = false_fallback = 0
    for (_, gold), ranking in zip(items, ranked, strict=True):
        top, top_conf = ranking[0]
        second_conf = ranking[1][1] if len(ranking) > 1 else 0.0
        predicted = NLU_FALLBACK if top_conf < threshold or top_conf - second_conf < ambiguity else top
        is_oos = gold == OUT_OF_SCOPE
        hit = predicted == gold or (is_oos and predicted == NLU_FALLBACK)
        correct += hit
        oos_total += is_oos
        oos_caught += is_oos and hit
        false_fallback += predicted == NLU_FALLBACK and not is_oos
    n = len(items)
    return {
        "threshold": threshold,
        "ambiguity_threshold": ambiguity,
        "accuracy": round(correct / n, 4),
        "out_of_scope_recall": round(oos_caught / oos_total, 4) if oos_total else None,
        "false_fallback_share": round(false_fallback / n, 4),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    from rasa.utils.common import configure_logging_and_warnings

    configure_logging_and_warnings(40)
    items, ranked = asyncio.run(rankings(args.model, load_items(args.data)))
    grid = [replay(items, ranked, t, a) for t in THRESHOLDS for a in AMBIGUITY]
    best = max(grid, key=lambda r: (r["accuracy"], -r["false_fallback_share"]))
    report = {"data": str(args.data), "model": str(args.model), "items": len(items), "best": best, "grid": grid}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(best))
    return 0


if __name__ == "__main__":
    sys.exit(main())
