"""Collapsed stacks (py-spy's ``--format raw``) read, classified and drawn as a flame graph SVG.

Why our own drawing: py-spy writes one format per recording, and the turn profile needs the raw
stacks (to attribute CPU to hops) and a picture of the same samples. Reading the raw lines
once gives both, with no second recording and no Perl ``flamegraph.pl``.
"""

from __future__ import annotations

import html
import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from pathlib import Path

Stacks = dict[tuple[str, ...], int]

_LINE_NUMBER = re.compile(r":\d+\)$")
WIDTH = 1400
ROW = 17
MIN_LABEL_PX = 36
TOP = 26


def read_collapsed(path: Path) -> Stacks:
    """``frame;frame;... count`` lines into {root-to-leaf frames: samples}, frames without line
    numbers so that one function is one box however many of its lines were sampled."""
    stacks: Stacks = defaultdict(int)
    if not path.is_file():
        return {}
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        frames, _, count = line.rpartition(" ")
        if frames and count.isdigit():
            stacks[tuple(_LINE_NUMBER.sub(")", frame) for frame in frames.split(";"))] += int(count)
    return dict(stacks)


def drop_idle(stacks: Stacks, idle_leaves: Sequence[str]) -> Stacks:
    """The stacks whose innermost frame is not a wait: py-spy cannot always tell an event loop
    blocked in epoll (uvloop's C loop under Sanic's ``serve``, a selector, an idle pool thread)
    from one that runs, and those samples are no hop's CPU."""
    return {frames: samples for frames, samples in stacks.items() if not any(leaf in frames[-1] for leaf in idle_leaves)}


def classify(stacks: Stacks, rules: Sequence[tuple[str, Sequence[str]]], other: str = "other") -> dict[str, int]:
    """Samples per category: the first rule (in order) with a fragment found in any frame of a stack wins."""
    counts: dict[str, int] = defaultdict(int)
    for frames, samples in stacks.items():
        joined = ";".join(frames)
        category = next((name for name, fragments in rules if any(f in joined for f in fragments)), other)
        counts[category] += samples
    return dict(counts)


def _tree(stacks: Stacks) -> dict[str, object]:
    root: dict[str, object] = {"": 0, "children": {}}
    for frames, samples in stacks.items():
        node = root
        node[""] = int(node[""]) + samples  # type: ignore[call-overload]
        for frame in frames:
            children: dict[str, dict[str, object]] = node["children"]  # type: ignore[assignment]
            node = children.setdefault(frame, {"": 0, "children": {}})
            node[""] = int(node[""]) + samples  # type: ignore[call-overload]
    return root


def _colour(frame: str) -> str:
    hue = sum(frame.encode()) % 60  # warm colours, stable per function
    return f"hsl({hue}, 75%, 60%)"


def write_svg(stacks_by_root: Mapping[str, Stacks], path: Path, title: str) -> None:
    """One flame graph drawn top down (an icicle: callers above callees), each root (a process) a
    column as wide as its samples; hovering a box shows its function, file and share."""
    merged: Stacks = {}
    for root, stacks in stacks_by_root.items():
        for frames, samples in stacks.items():
            merged[(root, *frames)] = samples
    tree = _tree(merged)
    total = max(int(tree[""]), 1)  # type: ignore[call-overload]
    boxes: list[str] = []
    depth_max = 0

    def draw(node: dict[str, object], name: str, x: float, depth: int) -> None:
        nonlocal depth_max
        samples = int(node[""])  # type: ignore[call-overload]
        width = WIDTH * samples / total
        if width < 0.5:
            return
        depth_max = max(depth_max, depth)
        label = html.escape(name)
        text = label if width >= MIN_LABEL_PX else ""
        if text and len(text) * 7 > width:
            text = text[: max(0, int(width / 7) - 2)] + ".."
        boxes.append(
            f'<g><title>{label} ({samples} samples, {100 * samples / total:.1f}%)</title>'
            f'<rect x="{x:.1f}" y="{TOP + depth * ROW}" width="{width:.1f}" height="{ROW - 1}" fill="{_colour(name)}"/>'
            f'<text x="{x + 3:.1f}" y="{TOP + depth * ROW + ROW - 5}">{text}</text></g>'
        )
        offset = x
        children: dict[str, dict[str, object]] = node["children"]  # type: ignore[assignment]
        for child_name, child in sorted(children.items()):
            draw(child, child_name, offset, depth + 1)
            offset += WIDTH * int(child[""]) / total  # type: ignore[call-overload]

    draw(tree, f"all ({total} samples)", 0.0, 0)
    height = TOP + (depth_max + 1) * ROW + 10
    body = "\n".join(boxes)
    path.write_text(
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" font-family="monospace" font-size="11">'
        f'<text x="4" y="16" font-size="14">{html.escape(title)}</text>\n{body}\n</svg>\n',
        encoding="utf-8",
    )

