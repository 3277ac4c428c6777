"""Recommendation quality on public real purchase histories and the demo store, and latency at scale.

Run as ``python -m bench.recommend_bench --data-dir var/demo`` (``make bench``); writes
``bench/results/recommend.json`` and ``bench/results/recommend.png``.  The datasets are
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
from datetime import timedelta
from pathlib import Path
from typing import Any

from assistant.recommend.blend import DEFAULT_POLICY
from assistant.settings import load_settings
from assistant.store.models import utcnow
from bench.common import RESULTS_DIR, load_average, write_result
from bench.recommend_quality import DATASETS, catalog_file, choose, evaluate, policy_json, prepare
from bench.recommend_scale import scale

DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def quality(model_name: str, names: tuple[str, ...]) -> dict[str, Any]:
    today = utcnow().replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
    available, skipped = [], {}
    for name in names:
        try:
            catalog_file(name)
            available.append(name)
        except FileNotFoundError as error:
            skipped[name] = str(error)
    started = time.perf_counter()
    validation = [prepare(name, "validation", today, model_name) for name in available]
    chosen, how = choose(validation)
    test = {}
    for name in available:
        data = prepare(name, "test", today, model_name)
        test[name] = {"shoppers": len(data.cases), "products": len(data.catalog),
                      "rows": evaluate(data, {"blend (chosen on validation)": chosen, "blend (shipped DEFAULT_POLICY)": DEFAULT_POLICY})}
    verdict = {
        name: {
            "blend_beats_own_frequency_on_whole_order": result["rows"]["blend (shipped DEFAULT_POLICY)"]["whole_order"]["ndcg@10"]
            > result["rows"]["own_frequency"]["whole_order"]["ndcg@10"],
            "blend_beats_popularity_on_discovery": result["rows"]["blend (shipped DEFAULT_POLICY)"]["discovery"]["ndcg@10"]
            > result["rows"]["popularity"]["discovery"]["ndcg@10"],
        }
        for name, result in test.items()
    }
    return {
        "today": today.isoformat(), "test": test, "verdict_shipped_policy": verdict,
        "chosen_policy": policy_json(chosen), "shipped_policy": policy_json(DEFAULT_POLICY),
        "shipped_equals_chosen": policy_json(chosen) == policy_json(DEFAULT_POLICY), "choice": how,
        "skipped": skipped, "seconds": round(time.perf_counter() - started),
    }


def plot(figures: dict[str, Any], path: Path) -> Path:
    """One panel per dataset: NDCG@10 of own-frequency, popularity and the blend, whole order beside discovery."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    test = figures["test"]
    methods = ["own_frequency", "popularity", "blend (shipped DEFAULT_POLICY)"]
    figure, axes = plt.subplots(1, len(test), figsize=(4.6 * len(test), 4.2), squeeze=False)
    for axis, (name, result) in zip(axes[0], test.items(), strict=True):
        for shift, mode, color in ((-0.2, "whole_order", "#4c72b0"), (0.2, "discovery", "#55a868")):
            values = [result["rows"][method][mode]["ndcg@10"] for method in methods]
            bars = axis.bar([i + shift for i in range(len(methods))], values, 0.4, label=mode.replace("_", " "), color=color)
            axis.bar_label(bars, labels=[f"{v:.3f}" for v in values], fontsize=7, padding=1)
        axis.set_xticks(range(len(methods)), ["own\nfrequency", "popularity", "blend"], fontsize=8)
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
    figures: dict[str, Any] = {"quality": quality(settings.embedding_model, tuple(args.datasets.split(",")))}
    print(f"quality done in {time.perf_counter() - started:.0f} s", flush=True)
    if not args.skip_latency:
        with tempfile.TemporaryDirectory(prefix="recommend-bench-") as workdir:
            figures["latency"] = scale(settings.data_dir, settings.index_dir, settings.embedding_model, Path(workdir),
                                       args.customers, args.events, args.postgres_url or None)
    figures["wall_seconds"] = round(time.perf_counter() - started)
    path = write_result("recommend", figures, load_at_start=load_at_start)
    print(f"wrote {path} and {plot(figures['quality'], RESULTS_DIR / 'recommend.png')}")


if __name__ == "__main__":
    main()
