"""Draw ``bench/results/nlu.png``: the team's own holdout beside the real-language splits.

Three panels, so the gap between the two kinds of data is the first thing a reader sees:
headline figures per set with the majority-class line (and the previous model's figures as
circles when it was measured), F1 per intent per set, and the row-normalised confusion matrix
of the real ``tune`` split (where errors may be studied; the ``test`` split is shown only as
figures, never as a matrix to pick fixes from).

Run as ``python -m bench.plot_nlu`` after ``bench/nlu_eval.py`` (``make bench`` does); it reads
the result files only.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no display on servers and in CI

import matplotlib.pyplot as plt  # noqa: E402 - the backend must be chosen first

from bench.common import RESULTS_DIR  # noqa: E402

HEADLINE = (
    ("accuracy", "accuracy"),
    ("macro_f1", "macro F1"),
    ("out_of_scope_recall", "out-of-scope\nrecall"),
    ("product_query_recall", "product-query\nrecall"),
)
SET_COLORS = {"holdout (team-written)": "#8c8c8c", "real tune": "#4c72b0", "real test": "#dd8452"}


def load_sets(results_dir: Path) -> dict[str, dict[str, Any]]:
    """Reports by display name, for whichever result files exist."""
    sets = {}
    holdout = results_dir / "nlu.json"
    if holdout.exists():
        sets["holdout (team-written)"] = json.loads(holdout.read_text())
    real = results_dir / "nlu_real.json"
    if real.exists():
        for name, report in json.loads(real.read_text())["sets"].items():
            sets[f"real {name}"] = report
    return sets


def _headline(axis: Any, sets: dict[str, dict[str, Any]]) -> None:
    width = 0.8 / (len(sets) + 1)
    for n, (name, report) in enumerate(sets.items()):
        values = [report.get(key) or 0.0 for key, _ in HEADLINE]
        positions = [i + n * width for i in range(len(HEADLINE))]
        bars = axis.bar(positions, values, width, label=name, color=SET_COLORS[name])
        axis.bar_label(bars, labels=[f"{v:.2f}" for v in values], fontsize=7, padding=1)
        majority = report["baselines"]["majority_class"]
        axis.scatter(
            positions,
            [majority.get(key) or 0.0 for key, _ in HEADLINE],
            marker="_",
            s=200,
            color="black",
            label="majority-class line" if n == 0 else None,
        )
        previous = report["baselines"].get("previous_model")
        if previous:
            axis.scatter(
                positions,
                [previous.get(key) or 0.0 for key, _ in HEADLINE],
                marker="o",
                s=30,
                facecolors="none",
                edgecolors="black",
                label="previous model" if n == 0 else None,
            )
    axis.set_xticks([i + width * (len(sets) - 1) / 2 for i in range(len(HEADLINE))], [label for _, label in HEADLINE])
    axis.set_ylim(0, 1.08)
    axis.set_title("Intent classification: team-written vs real messages")
    axis.legend(fontsize=7, loc="lower left")
    axis.grid(axis="y", alpha=0.3)


def _per_intent(axis: Any, sets: dict[str, dict[str, Any]]) -> None:
    intents = sorted({intent for report in sets.values() for intent in report["per_intent"]})
    height = 0.8 / len(sets)
    for n, (name, report) in enumerate(sets.items()):
        values = [report["per_intent"].get(intent, {}).get("f1", float("nan")) for intent in intents]
        axis.barh([i + n * height for i in range(len(intents))], values, height, label=name, color=SET_COLORS[name])
    axis.set_yticks([i + height * (len(sets) - 1) / 2 for i in range(len(intents))], intents, fontsize=7)
    axis.invert_yaxis()
    axis.set_xlim(0, 1)
    axis.set_xlabel("F1 (missing bar: intent absent from that set)")
    axis.set_title("F1 per intent")
    axis.legend(fontsize=7)
    axis.grid(axis="x", alpha=0.3)


def _confusion(axis: Any, report: dict[str, Any], title: str) -> None:
    matrix = report["confusion_matrix"]
    labels, counts = matrix["labels"], matrix["counts"]
    gold = [n for n, row in enumerate(counts) if sum(row)]
    shares = [[value / sum(counts[n]) for value in counts[n]] for n in gold]
    image = axis.imshow(shares, cmap="Blues", vmin=0, vmax=1, aspect="auto")
    axis.set_xticks(range(len(labels)), labels, rotation=90, fontsize=6)
    axis.set_yticks(range(len(gold)), [labels[n] for n in gold], fontsize=6)
    for row, n in enumerate(gold):
        for col, value in enumerate(counts[n]):
            if value:
                axis.text(col, row, str(value), ha="center", va="center", fontsize=5)
    axis.set_xlabel("predicted")
    axis.set_ylabel("gold")
    axis.set_title(title)
    plt.colorbar(image, ax=axis, fraction=0.04, label="share of the gold row")


def plot(results_dir: Path = RESULTS_DIR) -> Path:
    """Draws whatever NLU results exist; returns the image path."""
    sets = load_sets(results_dir)
    if not sets:
        raise SystemExit(f"no NLU results in {results_dir}; run bench/nlu_eval.py")
    tune = sets.get("real tune")
    figure, axes = plt.subplots(1, 3 if tune else 2, figsize=(22 if tune else 14, 7))
    _headline(axes[0], sets)
    _per_intent(axes[1], sets)
    if tune:
        _confusion(axes[2], tune, f"Confusion on the real tune split ({tune['items']} messages)")
    model = next(iter(sets.values()))["model"]
    figure.suptitle(f"model {model['model_id'][:8]} trained {model['trained_at'][:16]}", fontsize=8)
    figure.tight_layout()
    out = results_dir / "nlu.png"
    figure.savefig(out, dpi=120)
    plt.close(figure)
    return out


if __name__ == "__main__":
    print(plot())
