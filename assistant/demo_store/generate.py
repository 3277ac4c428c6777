"""Write the demo store: ``catalog.jsonl`` and ``history/`` with its manifest.

One seeded ``random.Random`` drives everything and nothing reads the clock, so a seed
always gives byte-identical files; the manifest records the seed, the reference time the
order statuses are relative to, the counts and each file's SHA-256.  The catalog is
written last, by rename: ``demo_setup`` treats an existing catalog as a finished store.
"""

from __future__ import annotations

import hashlib
import json
import random
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assistant.demo_store.catalog import build_catalog
from assistant.demo_store.fulfilment import ORDER_STATUSES, iso
from assistant.demo_store.history import EVENT_TYPES, REFERENCE_NOW, build_history

MANIFEST_NAME = "demo_manifest.json"
GENERATOR_VERSION = 1


@dataclass(frozen=True)
class DemoReport:
    """What was generated, where, and how long it took (the time is not in the manifest)."""

    data_dir: Path
    seed: int
    reference_date: str
    counts: dict[str, int]
    order_statuses: dict[str, int]
    files: list[Path] = field(default_factory=list)
    seconds: float = 0.0

    def summary(self) -> str:
        counts = ", ".join(f"{value} {name}" for name, value in self.counts.items())
        return f"demo store (seed {self.seed}, now {self.reference_date}) in {self.data_dir}: {counts} [{self.seconds:.1f} s]"


def _write_jsonl(path: Path, records: Iterable[dict[str, Any]]) -> str:
    """Write JSON Lines through a temporary file and return the file's SHA-256."""
    tmp = path.with_name(path.name + ".tmp")
    sha = hashlib.sha256()
    with tmp.open("w", encoding="utf-8", newline="\n") as handle:
        for record in records:
            line = json.dumps(record, ensure_ascii=False) + "\n"
            sha.update(line.encode("utf-8"))
            handle.write(line)
    tmp.replace(path)
    return sha.hexdigest()


def generate_demo_store(data_dir: Path, seed: int = 42) -> DemoReport:
    """Generate the demo catalog and history for ``seed`` into ``data_dir``."""
    started = time.perf_counter()
    data_dir = Path(data_dir)
    history_dir = data_dir / "history"
    history_dir.mkdir(parents=True, exist_ok=True)

    rng = random.Random(seed)
    catalog = build_catalog(rng)
    history = build_history(rng, catalog)

    digests = {
        "history/customers.jsonl": _write_jsonl(history_dir / "customers.jsonl", history.customers),
        "history/orders.jsonl": _write_jsonl(history_dir / "orders.jsonl", history.orders),
        "history/events.jsonl": _write_jsonl(history_dir / "events.jsonl", history.events),
    }
    statuses = Counter(order["status"] for order in history.orders)
    event_types = Counter(event["type"] for event in history.events)
    counts = {
        "products": len(catalog),
        "categories": len({product["category"] for product in catalog}),
        "subcategories": len({product["subcategory"] for product in catalog}),
        "customers": len(history.customers),
        "orders": len(history.orders),
        "order_lines": sum(len(order["items"]) for order in history.orders),
        "events": len(history.events),
    }
    catalog_digest = hashlib.sha256(
        "".join(json.dumps(product, ensure_ascii=False) + "\n" for product in catalog).encode("utf-8")
    ).hexdigest()
    reference_date = iso(REFERENCE_NOW)
    order_statuses = {status: statuses[status] for status in ORDER_STATUSES}
    manifest = {
        "generator": "assistant.demo_store",
        "version": GENERATOR_VERSION,
        "seed": seed,
        "reference_date": reference_date,
        "counts": counts,
        "order_statuses": order_statuses,
        "event_types": {kind: event_types[kind] for kind in EVENT_TYPES},
        "files": {"catalog.jsonl": catalog_digest, **digests},
    }
    manifest_path = history_dir / MANIFEST_NAME
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    written_digest = _write_jsonl(data_dir / "catalog.jsonl", catalog)
    if written_digest != catalog_digest:
        raise AssertionError("catalog digest changed while writing")

    return DemoReport(
        data_dir=data_dir,
        seed=seed,
        reference_date=reference_date,
        counts=counts,
        order_statuses=order_statuses,
        files=[data_dir / "catalog.jsonl", *(data_dir / name for name in digests), manifest_path],
        seconds=time.perf_counter() - started,
    )
