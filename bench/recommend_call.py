"""CPU of one recommend turn inside the action server, without the servers around it (issue #15).

The turn profile (``bench/turn_profile.py``) shows what a recommend turn costs per process;
this bench isolates the action's own work so a change to it can be measured in seconds, not
in a stack run: ``ActionRecommend.act`` is called directly (as rasa-sdk's worker thread calls
it) against a copy of the demo customer store and the real catalog index, for shoppers of
the load bench's mix (anonymous, one product in the cart) and logged-in customers who said
yes to personalization. Per kind: the thread CPU time and wall time of each call after the
tables, index and encoder are loaded; and a cProfile of all calls (the functions with the
most own time), so what is left to cut is visible.

    python -m bench.recommend_call [--data-dir var/demo] [--calls 200] [--result-name recommend_call]   (in `make bench`)
"""

from __future__ import annotations

import argparse
import cProfile
import dataclasses
import pstats
import random
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import context
from actions.recommend import ActionRecommend, recommender
from assistant.identity import sign_customer_token
from assistant.recommend.engine import ARTIFACTS_DIR
from assistant.settings import Settings, load_settings
from bench.chat_bench import copy_database, customers_with_orders
from bench.common import load_average, percentile, write_result
from bench.load_bench import RECOMMEND

NAME = "recommend_call"
TOP_FUNCTIONS = 15


def scratch_settings(settings: Settings, work: Path) -> Settings:
    """The demo store's index (read only, linked) with a copy of its customer store and trained tables."""
    (work / "index").symlink_to(settings.index_dir.resolve())
    if (settings.data_dir / ARTIFACTS_DIR).is_dir():
        shutil.copytree(settings.data_dir / ARTIFACTS_DIR, work / ARTIFACTS_DIR)
    database = copy_database(settings.data_dir / "customers.db", work / "customers.db")
    return dataclasses.replace(settings, data_dir=work, database_url=database)


def trackers(settings: Settings, calls: int, seed: int = 7) -> dict[str, list[Tracker]]:
    """Per kind, the trackers of ``calls`` recommend turns: anonymous shoppers with a cart, consenting customers."""
    rng = random.Random(seed)
    product_ids = [str(p["id"]) for p in context.searcher().loaded_version().products]
    customers = customers_with_orders(settings.database_url, 50)
    with context.unit_of_work() as uow:
        for customer_id in customers:
            uow.customers.set_personalization_consent(customer_id, True)
        for i in range(calls):
            uow.carts.add_item(uow.carts.get_or_create(session_key=f"anon-{i}"), rng.choice(product_ids))
        uow.commit()

    def tracker(sender: str, metadata: dict[str, Any]) -> Tracker:
        message = {"text": rng.choice(RECOMMEND), "intent": {"name": "recommend"}, "entities": [], "metadata": metadata}
        return Tracker(sender, {}, message, [], False, None, {}, "action_listen")

    return {
        "anonymous_with_cart": [tracker(f"anon-{i}", {}) for i in range(calls)],
        "customer_with_consent": [
            tracker(f"cust-{i}", {"customer_token": sign_customer_token(customers[i % len(customers)], settings.store_secret)})
            for i in range(calls)
        ],
    }


def run(settings: Settings, calls: int) -> dict[str, Any]:
    """Warm everything up, then time each call and profile them all."""
    context.use_settings(settings)
    action = ActionRecommend()
    by_kind = trackers(settings, calls)
    for kind_trackers in by_kind.values():  # loads the index, the encoder and the trained tables
        action.act(CollectingDispatcher(), kind_trackers[0], {})
    recommender().models.join()
    figures: dict[str, Any] = {}
    profile = cProfile.Profile()
    for kind, kind_trackers in by_kind.items():
        cpu_ms, wall_ms = [], []
        for tracker in kind_trackers:
            dispatcher = CollectingDispatcher()
            started_cpu, started = time.process_time(), time.perf_counter()
            action.act(dispatcher, tracker, {})
            cpu_ms.append((time.process_time() - started_cpu) * 1000)
            wall_ms.append((time.perf_counter() - started) * 1000)
            if not dispatcher.messages or not (dispatcher.messages[-1].get("custom") or {}).get("products"):
                raise RuntimeError(f"{kind}: no recommendations in {dispatcher.messages}")
        figures[kind] = {
            "calls": len(cpu_ms),
            "cpu_ms_p50": round(statistics.median(cpu_ms), 2), "cpu_ms_p95": round(percentile(cpu_ms, 95), 2),
            "cpu_ms_mean": round(statistics.fmean(cpu_ms), 2),
            "wall_ms_p50": round(statistics.median(wall_ms), 2), "wall_ms_p95": round(percentile(wall_ms, 95), 2),
        }
        print(kind, figures[kind])
    for kind_trackers in by_kind.values():  # profiled apart: cProfile inflates what it watches
        for tracker in kind_trackers:
            profile.runcall(action.act, CollectingDispatcher(), tracker, {})
    recommender().models.join()  # a retrain started meanwhile must not write into the removed scratch store
    stats = pstats.Stats(profile)
    total_calls = sum(len(t) for t in by_kind.values())
    rows = sorted(stats.stats.items(), key=lambda item: item[1][2], reverse=True)[:TOP_FUNCTIONS]  # type: ignore[attr-defined]
    figures["own_time_ms_per_call_by_function_profiled"] = {
        f"{Path(file).name}:{line}({name})": round(own * 1000 / total_calls, 3) for (file, line, name), (_, _, own, _, _) in rows
    }
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--calls", type=int, default=200, help="recommend turns per kind")
    parser.add_argument("--result-name", default=NAME)
    args = parser.parse_args()
    load_at_start = load_average()
    with tempfile.TemporaryDirectory(prefix="recommend-call-") as work:
        figures = run(scratch_settings(load_settings(args.data_dir), Path(work)), args.calls)
    notes = [
        "ActionRecommend.act called directly (no HTTP, no Rasa) on a copy of the demo customer store, after warm-up.",
        "cpu_ms: process CPU time of one call (all threads: BLAS ones too).",
        "The profile is a second pass over the same calls (its times are inflated by cProfile).",
    ]
    print(f"wrote {write_result(args.result_name, {'recommend_call': figures}, notes, load_at_start)}")


if __name__ == "__main__":
    main()
