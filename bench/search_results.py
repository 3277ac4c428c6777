"""One result file for search: ``bench/results/search.json``, written in parts by three benchmarks.

``search_bench`` (the demo store: latency, build, memory, embedding throughput),
``search_quality`` (relevance) and ``search_scale`` (10k to 1M products) each replace only
their own top-level keys, so running one of them alone keeps the others' figures.  Each part
records when and under what machine load it was measured, because the machine block at the
top describes only the last writer.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from bench.common import RESULTS_DIR, SHARED_MACHINE_NOTE, load_average, write_result

NAME = "search"


def measured_stamp(load_at_start: list[float] | None) -> dict[str, Any]:
    """When a part was measured and how busy the shared machine was around it."""
    return {
        "at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "load_average_1_5_15_at_start": load_at_start,
        "load_average_1_5_15_at_end": load_average(),
    }


def update_search_results(
    figures: dict[str, Any], notes: Sequence[str] = (), load_at_start: list[float] | None = None, results_dir: Path = RESULTS_DIR
) -> Path:
    """Replace ``figures``' top-level keys in ``search.json``, keeping every other key and note."""
    path = results_dir / f"{NAME}.json"
    kept: dict[str, Any] = {}
    kept_notes: list[str] = []
    if path.exists():
        existing = json.loads(path.read_text())
        kept = {key: value for key, value in existing.items() if key not in ("benchmark", "machine", "notes", *figures)}
        kept_notes = [note for note in existing.get("notes", []) if note != SHARED_MACHINE_NOTE]
    merged_notes = list(dict.fromkeys([*kept_notes, *notes]))
    return write_result(NAME, {**kept, **figures}, notes=merged_notes, load_at_start=load_at_start, results_dir=results_dir)
