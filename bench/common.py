"""What every benchmark records besides its figures: the machine, the code, the date.

A latency figure means nothing without the machine it came from, so each result file
carries the CPU, memory, interpreter, library versions and git commit it was measured
with.  Percentiles are computed here once so every file reports them the same way.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
from collections.abc import Iterable, Sequence
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

from assistant.settings import PROJECT_ROOT

RESULTS_DIR = PROJECT_ROOT / "bench" / "results"
SHARED_MACHINE_NOTE = (
    "Measured on a 2-core machine shared with other engineers' test runs and servers at the same time; "
    "figures are noisy and best read as orders of magnitude, not as a baseline to assert against."
)
LIBRARIES = ("torch", "sentence-transformers", "onnxruntime", "faiss-cpu", "numpy", "SQLAlchemy", "aiohttp", "rasa-sdk")


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _memory_total_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024**2, 1)
    except OSError:
        pass
    return None


def _git_commit() -> str | None:
    try:
        done = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True
        )
        dirty = subprocess.run(
            ["git", "status", "--porcelain"], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True
        )
    except (OSError, subprocess.CalledProcessError):
        return None
    return done.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")


def _versions(names: Iterable[str]) -> dict[str, str | None]:
    found: dict[str, str | None] = {}
    for name in names:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = None
    return found


def load_average() -> list[float] | None:
    """The 1, 5 and 15 minute load averages: how busy the shared machine was around a measurement."""
    try:
        return [round(value, 2) for value in os.getloadavg()]
    except OSError:
        return None


def machine_info(extra_libraries: Sequence[str] = ()) -> dict[str, Any]:
    """The facts a reader needs to compare a figure with their own machine's."""
    return {
        "cpu_model": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "memory_gib": _memory_total_gib(),
        "load_average_1_5_15_at_end": load_average(),
        "os": platform.platform(),
        "python": platform.python_version(),
        "python_executable": sys.executable,
        "libraries": _versions([*LIBRARIES, *extra_libraries]),
        "git_commit": _git_commit(),
        "measured_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }


def percentile(samples: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100) by linear interpolation between closest ranks."""
    if not samples:
        raise ValueError("no samples")
    ordered = sorted(samples)
    position = (len(ordered) - 1) * q / 100
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def latency_summary(seconds: Sequence[float]) -> dict[str, float | int]:
    """p50, p95, mean and max in milliseconds, and the sample count."""
    return {
        "n": len(seconds),
        "p50_ms": round(percentile(seconds, 50) * 1000, 3),
        "p95_ms": round(percentile(seconds, 95) * 1000, 3),
        "mean_ms": round(statistics.fmean(seconds) * 1000, 3),
        "max_ms": round(max(seconds) * 1000, 3),
    }


def rss_bytes() -> int:
    """This process's resident set size now (Linux ``/proc``), for memory deltas around a load."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE")


def write_result(
    name: str,
    figures: dict[str, Any],
    notes: Sequence[str] = (),
    load_at_start: list[float] | None = None,
    results_dir: Path = RESULTS_DIR,
) -> Path:
    """Write ``<results_dir>/<name>.json`` with the machine (and its load before and after), the notes and the figures."""
    results_dir.mkdir(parents=True, exist_ok=True)
    path = results_dir / f"{name}.json"
    machine = {**machine_info(), "load_average_1_5_15_at_start": load_at_start}
    document = {"benchmark": name, "machine": machine, "notes": [SHARED_MACHINE_NOTE, *notes], **figures}
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(document, indent=2) + "\n")
    tmp.replace(path)
    return path
