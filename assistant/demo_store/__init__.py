"""The generated demo store: a catalog and two years of customer history from one seed.

``generate_demo_store(data_dir, seed)`` writes ``catalog.jsonl`` and ``history/``
(customers, orders, events and ``demo_manifest.json``) as docs/contracts.md describes;
``python -m assistant.demo_store --data-dir DIR --seed 42`` does the same from a shell.
"""

from assistant.demo_store.generate import DemoReport, generate_demo_store
from assistant.demo_store.history import REFERENCE_NOW

__all__ = ["REFERENCE_NOW", "DemoReport", "generate_demo_store"]
