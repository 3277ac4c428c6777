"""Draw ``bench/results/latency.png`` (p50 and p95 of each measured operation, search and
chat side by side) and ``bench/results/recommend.png`` (per dataset, own-frequency,
popularity and the blend: NDCG@10 on the whole next order and on discovery only).

Run as ``python -m bench.plot`` after the benchmarks (``make bench`` does).  It reads the
result files only, so a figure can be redrawn without measuring again.  The latency y axes
are logarithmic because a cached search takes about a millisecond and a chat reply hundreds.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no display on servers and in CI

import matplotlib.pyplot as plt  # noqa: E402 - the backend must be chosen first
from matplotlib import ticker  # noqa: E402

from bench.common import RESULTS_DIR  # noqa: E402

Bars = list[tuple[str, dict[str, Any]]]


def search_bars(search: dict[str, Any]) -> Bars:
    """(label, summary with p50_ms/p95_ms) for each search operation."""
    latency = search["search_latency"]
    return [
        ("free text\n+ embedding", latency["free_text_parsed"]["embedding_included"]),
        ("free text\ncached vector", latency["free_text_parsed"]["embedding_cached"]),
        ("~1% filter\n+ embedding", latency["selective_filter"]["embedding_included"]),
        ("~1% filter\ncached vector", latency["selective_filter"]["embedding_cached"]),
        ("~50% filter\ncached vector", latency["broad_filter"]["embedding_cached"]),
        ("query\nembedding only", latency["query_embedding_only"]),
    ]


def chat_bars(chat: dict[str, Any]) -> Bars:
    """(label, summary) for each message kind, then the mixed load with concurrent conversations."""
    bars: Bars = [(name.replace("_", "\n"), summary) for name, summary in chat["sequential"]["by_kind"].items()]
    load = chat["concurrent"]
    bars.append((f"mixed, {load['concurrent_conversations']}\nat once", load["latency_under_load"]))
    return bars


def _draw(axis: Any, bars: Bars, title: str) -> None:
    positions = range(len(bars))
    width = 0.4
    for shift, key, color in ((-width / 2, "p50_ms", "#4c72b0"), (width / 2, "p95_ms", "#dd8452")):
        values = [summary[key] for _, summary in bars]
        drawn = axis.bar([p + shift for p in positions], values, width, label=key.removesuffix("_ms"), color=color)
        axis.bar_label(drawn, labels=[f"{v:.0f}" if v >= 10 else f"{v:.1f}" for v in values], fontsize=7, padding=1)
    axis.set_xticks(list(positions), [label for label, _ in bars], fontsize=8)
    axis.set_yscale("log")
    axis.yaxis.set_major_locator(ticker.LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    axis.yaxis.set_major_formatter(ticker.FuncFormatter(lambda value, _: f"{value:g}"))
    axis.yaxis.set_minor_formatter(ticker.NullFormatter())
    axis.set_ylabel("milliseconds (log scale)")
    axis.set_title(title)
    axis.legend()
    axis.grid(axis="y", which="major", alpha=0.3)


def plot(results_dir: Path = RESULTS_DIR) -> Path:
    """Draw the panels for whichever result files exist; returns the image path."""
    panels: list[tuple[Bars, str]] = []
    search_file, chat_file = results_dir / "search.json", results_dir / "chat.json"
    if search_file.exists():
        search = json.loads(search_file.read_text())
        panels.append((search_bars(search), f"Catalog search, {search['catalog']['products']} products, k=10"))
    if chat_file.exists():
        panels.append((chat_bars(json.loads(chat_file.read_text())), "Bot reply through the gateway channel"))
    if not panels:
        raise SystemExit(f"no results in {results_dir}; run `make bench`")
    figure, axes = plt.subplots(1, len(panels), figsize=(7 * len(panels), 5), squeeze=False)
    for axis, (bars, title) in zip(axes[0], panels, strict=True):
        _draw(axis, bars, title)
    machine = json.loads((search_file if search_file.exists() else chat_file).read_text())["machine"]
    figure.suptitle(
        f"p50 / p95 latency on {machine['cpu_model']} x{machine['cpu_count']} (shared, noisy), "
        f"{machine['measured_at'][:10]}",
        fontsize=10,
    )
    figure.tight_layout()
    path = results_dir / "latency.png"
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def plot_recommend(results_dir: Path = RESULTS_DIR) -> Path | None:
    """Per dataset, NDCG@10 of own-frequency, popularity and the blend, whole order beside
    discovery (drawn by ``bench.recommend_bench.plot``). ``None`` without results."""
    from bench.recommend_bench import plot as draw

    source = results_dir / "recommend_quality.json"
    if not source.exists():
        return None
    return draw(json.loads(source.read_text()), results_dir / "recommend.png")


def main() -> None:
    print(f"wrote {plot()}")
    if (recommend := plot_recommend()) is not None:
        print(f"wrote {recommend}")


if __name__ == "__main__":
    main()
