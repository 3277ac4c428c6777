"""The trained model still understands shopper messages it never saw: a regression guard.

Runs ``bench/nlu_eval.py`` in ``.venv-rasa`` (Rasa lives in its own Python 3.10 runtime) on
``models/current.tar.gz`` against ``tests/data/nlu_holdout.yml`` and checks two things:
holdout accuracy stays above a floor a few points under the last measured figure (see
``bench/results/nlu.json``), and no nonsense message (keyboard mash, other languages) is
ever routed to an intent that makes the bot search, touch the cart or look up an order.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

PROJECT_ROOT = Path(__file__).resolve().parent.parent
RASA_PYTHON = PROJECT_ROOT / ".venv-rasa" / "bin" / "python"
MODEL = PROJECT_ROOT / "models" / "current.tar.gz"
EVAL_SCRIPT = PROJECT_ROOT / "bench" / "nlu_eval.py"
HOLDOUT = PROJECT_ROOT / "tests" / "data" / "nlu_holdout.yml"
ACCURACY_FLOOR = 0.86


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One evaluation run shared by the assertions below."""
    if not RASA_PYTHON.exists():
        pytest.skip(f"Rasa runtime not installed at {RASA_PYTHON}")
    if not MODEL.is_file():
        pytest.skip(f"no trained model at {MODEL}: run `make model` first")
    out = tmp_path_factory.mktemp("nlu_eval") / "nlu.json"
    result = subprocess.run(
        [
            str(RASA_PYTHON),
            str(EVAL_SCRIPT),
            "--model",
            str(MODEL),
            "--holdout",
            str(HOLDOUT),
            "--out",
            str(out),
            "--quiet",
        ],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(out.read_text(encoding="utf-8"))


def test_holdout_covers_every_intent(report: dict[str, Any]) -> None:
    assert report["items"] >= 250
    assert report["nonsense_items"] >= 20
    assert all(scores["support"] >= 6 for scores in report["per_intent"].values())


def test_holdout_accuracy_above_floor(report: dict[str, Any]) -> None:
    wrong = [f"{m['text']!r}: {m['expected']} -> {m['predicted']}" for m in report["misclassified"]]
    assert report["accuracy"] >= ACCURACY_FLOOR, "\n".join(wrong)


def test_nonsense_never_lands_in_a_shopping_intent(report: dict[str, Any]) -> None:
    assert report["nonsense_in_shopping_intent"] == []
