"""The turn profile's reading of py-spy stacks (bench/flamegraph.py): what a sample is counted as.

The per-hop CPU split of ``bench/turn_profile.py`` is only as right as this: a function sampled
at several lines is one function, a sample inside DIET counts for DIET even though the graph
runner and the HTTP server are below it on the stack, and the drawing is as wide as the samples.
"""

from __future__ import annotations

import re
from pathlib import Path

from bench.flamegraph import classify, drop_idle, read_collapsed, write_svg
from bench.turn_profile import HOP_RULES, IDLE_LEAVES

PARSE = "handle (sanic/app.py:10);parse (rasa/core/processor.py:5);__call__ (rasa/engine/graph.py:3)"
RAW = f"""\
{PARSE};process (rasa/nlu/classifiers/diet_classifier.py:40) 30
{PARSE};process (rasa/nlu/classifiers/diet_classifier.py:41) 10
handle (sanic/app.py:10);run (rasa/core/actions/action.py:7);dumps (json/__init__.py:2) 15
handle (sanic/app.py:11) 5
not a sample line
"""


def test_lines_of_one_function_are_one_frame_and_counts_add_up(tmp_path: Path) -> None:
    path = tmp_path / "rasa.txt"
    path.write_text(RAW)
    stacks = read_collapsed(path)
    diet = ("handle (sanic/app.py)", "parse (rasa/core/processor.py)", "__call__ (rasa/engine/graph.py)",
            "process (rasa/nlu/classifiers/diet_classifier.py)")
    assert stacks[diet] == 40
    assert sum(stacks.values()) == 60
    assert read_collapsed(tmp_path / "absent.txt") == {}


def test_a_sample_counts_for_the_most_specific_hop_on_its_stack(tmp_path: Path) -> None:
    path = tmp_path / "rasa.txt"
    path.write_text(RAW)
    counts = classify(read_collapsed(path), HOP_RULES["rasa server"])
    assert counts == {
        "NLU: DIET": 40,
        "action call (tracker + domain to JSON, answer checked)": 15,
        "channel + HTTP server": 5,
    }


def test_the_action_server_rules_tell_search_from_store_from_framework() -> None:
    stacks = {
        ("handle (sanic/app.py)", "run (actions/search.py)", "search (catalog_index/hybrid.py)", "execute (sqlalchemy/engine/base.py)"): 3,
        ("handle (sanic/app.py)", "run (actions/orders.py)", "get (assistant/store/repositories.py)"): 2,
        ("handle (sanic/app.py)", "run (actions/cart.py)"): 1,
        ("handle (sanic/app.py)",): 4,
        ("select (selectors.py)",): 1,
    }
    assert classify(stacks, HOP_RULES["action server"]) == {
        "search (catalog_index)": 3,
        "customer store (SQL)": 2,
        "actions' own code (slots, replies)": 1,
        "rasa-sdk + HTTP server": 4,
        "other": 1,
    }


def test_the_flame_graph_gives_each_process_a_width_in_proportion_to_its_samples(tmp_path: Path) -> None:
    svg = tmp_path / "greet.svg"
    write_svg({"rasa server": {("a (x.py)", "b (y.py)"): 3}, "action server": {("c (z.py)",): 1}}, svg, "greet")
    widths = {
        title.split(" (")[0]: float(width)
        for title, width in re.findall(r"<title>([^<]+)</title><rect [^>]*width=\"([\d.]+)\"", svg.read_text())
    }
    assert widths["rasa server"] == 3 * widths["action server"]
    assert widths["b"] == widths["rasa server"]


def test_samples_of_a_server_waiting_for_work_are_no_hops_cpu() -> None:
    stacks = {
        ("run (rasa/api.py)", "serve (sanic/server/runners.py)"): 368,
        ("run (rasa/api.py)", "serve (sanic/server/runners.py)", "handle (rasa/core/processor.py)"): 30,
        ("_bootstrap (threading.py)", "_worker (concurrent/futures/thread.py)"): 36,
        ("run_forever (asyncio/base_events.py)", "EpollSelector.select (selectors.py)"): 17,
    }
    assert drop_idle(stacks, IDLE_LEAVES) == {
        ("run (rasa/api.py)", "serve (sanic/server/runners.py)", "handle (rasa/core/processor.py)"): 30
    }
