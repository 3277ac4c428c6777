"""Recommendation quality on public real purchase histories and the demo store, and latency at scale.

Run as ``python -m bench.recommend_bench --data-dir var/demo`` (``make bench``); writes
``bench/results/recommend_quality.json`` with ``bench/results/recommend.png`` (quality) and
``bench/results/recommend.json`` (latency).  The datasets are
derived first by ``bench/datasets/`` (see ``bench/README.md``); a dataset not derived yet
is reported as skipped.  Quality: :mod:`bench.recommend_quality` (validation split chooses
the policy, test split reports it beside own-frequency and popularity, and beside the
shipped ``DEFAULT_POLICY``).  Latency: :mod:`bench.recommend_scale`.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from assistant.recommend.blend import DEFAULT_POLICY
from assistant.recommend.calibrate import policy_of
from assistant.settings import load_settings
from assistant.store.models import utcnow
from bench.common import RESULTS_DIR, load_average, write_result
from bench.recommend_quality import DATASETS, Prepared, catalog_file, choose, evaluate, policy_json, prepare
from bench.recommend_scale import scale

CALIBRATED = "blend (calibrated on the store's history)"
DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def quality(
    model_name: str, names: tuple[str, ...], load: Callable[[str, str, datetime, str], Prepared] = prepare,
    today: datetime | None = None,
) -> dict[str, Any]:
    """``load``: :func:`bench.recommend_quality.prepare` (a caller may pass one that reuses prepared splits)."""
    today = today or utcnow().replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
    available, skipped = [], {}
    for name in names:
        try:
            catalog_file(name)
            available.append(name)
        except FileNotFoundError as error:
            skipped[name] = str(error)
    started = time.perf_counter()
    validation = [load(name, "validation", today, model_name) for name in available]
    chosen, how = choose(validation)
    test = {}
    for name in available:
        data = load(name, "test", today, model_name)
        policies = {"blend (chosen on validation)": chosen, "blend (shipped DEFAULT_POLICY)": DEFAULT_POLICY,
                    CALIBRATED: policy_of(data.calibration)}
        test[name] = {"shoppers": len(data.cases), "products": len(data.catalog), "calibration": data.calibration,
                      "rows": evaluate(data, policies)}
    return {
        "today": today.isoformat(), "test": test,
        "verdict_shipped_policy": verdicts(test, "blend (shipped DEFAULT_POLICY)"), "verdict_calibrated": verdicts(test, CALIBRATED),
        "chosen_policy": policy_json(chosen), "shipped_policy": policy_json(DEFAULT_POLICY),
        "shipped_equals_chosen": policy_json(chosen) == policy_json(DEFAULT_POLICY), "choice": how,
        "retrain_seconds": {name: result["calibration"].get("retrain_seconds") for name, result in test.items()},
        "skipped": skipped, "seconds": round(time.perf_counter() - started),
    }


def verdicts(test: dict[str, Any], label: str) -> dict[str, dict[str, bool]]:
    """Per dataset: does the ``label`` blend beat the baseline each mode must beat, and is the interval above zero."""
    return {
        name: {
            "blend_beats_own_frequency_on_whole_order": row["vs_own_frequency_whole_order"]["difference"] > 0,
            "interval_above_zero_whole_order": row["vs_own_frequency_whole_order"]["ci95"][0] > 0,
            "blend_beats_popularity_on_discovery": row["vs_popularity_discovery"]["difference"] > 0,
            "interval_above_zero_discovery": row["vs_popularity_discovery"]["ci95"][0] > 0,
        }
        for name, row in ((name, result["rows"][label]) for name, result in test.items())
    }


def plot(figures: dict[str, Any], path: Path) -> Path:
    """One panel per dataset: NDCG@10 of own-frequency, popularity, the shipped and the calibrated blend, whole order
    beside discovery, each blend's bars with the paired bootstrap 95% interval of its difference to the baseline it must beat."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    test = figures["test"]
    methods = ["own_frequency", "popularity", "blend (shipped DEFAULT_POLICY)", CALIBRATED]
    figure, axes = plt.subplots(1, len(test), figsize=(4.6 * len(test), 4.2), squeeze=False)
    for axis, (name, result) in zip(axes[0], test.items(), strict=True):
        for shift, mode, color in ((-0.2, "whole_order", "#4c72b0"), (0.2, "discovery", "#55a868")):
            values = [result["rows"][method][mode]["ndcg@10"] for method in methods]
            errors: list[list[float]] = [[0.0, 0.0], [0.0, 0.0]]
            for method, value in zip(methods[2:], values[2:], strict=True):
                against = result["rows"][method]["vs_own_frequency_whole_order" if mode == "whole_order" else "vs_popularity_discovery"]
                low, high = (value - against["difference"] + bound for bound in against["ci95"])
                errors[0].append(value - low)
                errors[1].append(high - value)
            bars = axis.bar([i + shift for i in range(len(methods))], values, 0.4, label=mode.replace("_", " "), color=color,
                            yerr=errors, capsize=2, error_kw={"elinewidth": 0.8})
            axis.bar_label(bars, labels=[f"{v:.3f}" for v in values], fontsize=7, padding=1)
        axis.set_xticks(range(len(methods)), ["own\nfrequency", "popularity", "blend\n(shipped)", "blend\n(calibrated)"], fontsize=8)
        axis.set_title(f"{name} ({result['shoppers']} shoppers, last order)", fontsize=9)
        axis.grid(axis="y", alpha=0.3)
    axes[0][0].set_ylabel("NDCG@10")
    axes[0][0].legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--datasets", default=",".join(DATASETS), help="comma-separated: " + ", ".join(DATASETS))
    parser.add_argument("--customers", type=int, default=100_000, help="customers in the latency store")
    parser.add_argument("--events", type=int, default=5_000_000, help="events in the latency store (orders: a tenth)")
    parser.add_argument("--postgres-url", default=os.environ.get("SHOP_BENCH_POSTGRES_URL", DEFAULT_POSTGRES),
                        help="an admin URL; a scratch database is created and dropped ('' to skip PostgreSQL)")
    parser.add_argument("--skip-latency", action="store_true")
    args = parser.parse_args()
    settings = load_settings(args.data_dir)
    load_at_start = load_average()
    started = time.perf_counter()
    figures = quality(settings.embedding_model, tuple(args.datasets.split(",")))
    path = write_result("recommend_quality", figures, load_at_start=load_at_start)
    plotted = plot(figures, RESULTS_DIR / "recommend.png")
    print(f"quality done in {time.perf_counter() - started:.0f} s: wrote {path} and {plotted}", flush=True)
    if not args.skip_latency:
        load_at_start, started = load_average(), time.perf_counter()
        with tempfile.TemporaryDirectory(prefix="recommend-bench-") as workdir:
            latency = {"latency": scale(settings.data_dir, settings.index_dir, settings.embedding_model, Path(workdir),
                                        args.customers, args.events, args.postgres_url or None)}
        latency["wall_seconds"] = round(time.perf_counter() - started)
        print(f"wrote {write_result('recommend', latency, load_at_start=load_at_start)}")


if __name__ == "__main__":
    main()
