"""Draw ``bench/results/dialogue.png`` from ``bench/results/dialogue.json``.

Left: the three headline figures of the multi-turn evaluation (reply-kind accuracy,
context-resolution accuracy on follow-ups, fallback share), current model beside the previous
one when it was measured. Right: reply-kind accuracy per expected kind, with the turn counts,
so a weak kind with few turns is read as such.

Run as ``python -m bench.plot_dialogue`` after ``bench.dialogue_eval`` (``make bench`` does).
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
    ("reply_kind_accuracy", "reply kind\naccuracy"),
    ("context_resolution_accuracy", "context resolution\n(follow-ups)"),
    ("fallback_share", "fallback share\n(lower is better)"),
)
COLORS = {"current": "#4c72b0", "previous_model": "#8c8c8c"}


def plot(results_dir: Path = RESULTS_DIR) -> Path:
    source = results_dir / "dialogue.json"
    if not source.exists():
        raise SystemExit(f"no {source}; run `python -m bench.dialogue_eval`")
    result: dict[str, Any] = json.loads(source.read_text())
    runs = {name: result[name] for name in ("current", "previous_model") if name in result}
    figure, (left, right) = plt.subplots(1, 2, figsize=(14, 5.5))
    width = 0.8 / len(runs)
    for n, (name, run) in enumerate(runs.items()):
        values = [run.get(key) or 0.0 for key, _ in HEADLINE]
        bars = left.bar([i + n * width for i in range(len(HEADLINE))], values, width, label=name, color=COLORS[name])
        left.bar_label(bars, labels=[f"{v:.2f}" for v in values], fontsize=8, padding=1)
    left.set_xticks([i + width * (len(runs) - 1) / 2 for i in range(len(HEADLINE))], [label for _, label in HEADLINE])
    left.set_ylim(0, 1.08)
    left.set_title(f"{result['dialogues']} real dialogues, {runs['current']['turns']} shopper turns")
    left.legend(fontsize=8)
    left.grid(axis="y", alpha=0.3)

    kinds = sorted(runs["current"]["by_expected_kind"])
    for n, (name, run) in enumerate(runs.items()):
        values = [run["by_expected_kind"].get(kind, {}).get("reply_kind_accuracy", 0.0) for kind in kinds]
        right.bar([i + n * width for i in range(len(kinds))], values, width, label=name, color=COLORS[name])
    counts = runs["current"]["by_expected_kind"]
    right.set_xticks(
        [i + width * (len(runs) - 1) / 2 for i in range(len(kinds))],
        [f"{kind}\n(n={counts[kind]['turns']})" for kind in kinds],
        fontsize=8,
    )
    right.set_ylim(0, 1.05)
    right.set_title("Reply kind accuracy by the kind each turn should get")
    right.grid(axis="y", alpha=0.3)
    figure.tight_layout()
    out = results_dir / "dialogue.png"
    figure.savefig(out, dpi=120)
    plt.close(figure)
    return out


if __name__ == "__main__":
    print(plot())
