"""Derive the multi-turn evaluation dialogues (``dialogues.jsonl``) from public real dialogues.

Why: follow-ups ("add the grey one to my cart", "any other options?") are where a shopping bot
loses the thread, and the team's own scripts only test the follow-ups the team thought of.
The shopper turns here are typed by crowd workers playing shoppers (SIMMC 2.0) or customers
(ABCD), labelled with dialogue acts by the corpus authors; this script only maps those acts to
the reply kind our bot should give and to what a follow-up must resolve against:

=====================  ==============  ======================================================
source act             expected reply  resolve_against
=====================  ==============  ======================================================
REQUEST:GET with type  products        (new topic: none)
REQUEST:GET, no type   products        previous_topic: products of the same kind as before
INFORM:GET/REFINE      products        previous_topic
ASK:GET                product_answer  shown_products: a product the bot showed before
REQUEST:COMPARE        comparison      shown_products
REQUEST:ADD_TO_CART    cart            shown_products
=====================  ==============  ======================================================

SIMMC 2.0 happens in a virtual showroom, so a dialogue is cut before the first
``INFORM:DISAMBIGUATE`` turn (it answers "which one?" about the room) and kept only if its
first request names a garment the demo store sells (``STORE_TYPES``); no shopper text is
rewritten. ABCD gives the support openings (returns, refunds, promotions) and closings.

Usage: ``.venv/bin/python bench/data/dialogues/build.py [--mirror-root /work/.mirror]``
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SIMMC = ("facebookresearch/simmc2", "6e3de4e3d11e2914edc3ab9123e6b0eb88933237", "CC-BY-NC-SA-4.0")
SIMMC_FILE = "dstc10/data/simmc2_dials_dstc10_dev.json"
ABCD = ("asappresearch/abcd", "6b8700ce67c6b37b062dd7a60abc76d7ef832a97", "MIT")
ABCD_FILE = "data/abcd_sample.json"

# SIMMC garment type -> the demo store department that sells it (the store's own names).
STORE_TYPES = {
    "jacket": "jackets",
    "jeans": "jeans",
    "hoodie": "hoodies",
    "dress": "dresses",
    "tshirt": "t-shirts",
    "shoes": "shoes",
}
ACTS = {
    "REQUEST:GET": "products",
    "INFORM:GET": "products",
    "INFORM:REFINE": "products",
    "ASK:GET": "product_answer",
    "REQUEST:COMPARE": "comparison",
    "REQUEST:ADD_TO_CART": "cart",
}
MAX_TURNS = 5
MAX_SIMMC_DIALOGUES = 40
# ABCD subflow -> (reply kind of the opening request); closings are acknowledgements.
ABCD_OPENINGS = {"return_size": "policy", "refund_status": "policy", "timing_4": "policy"}


def git_show(mirror_root: Path, repo: str, commit: str, path: str) -> str:
    git_dir = mirror_root / repo.replace("/", "+") / "repo"
    return subprocess.run(
        ["git", "--git-dir", str(git_dir), "show", f"{commit}:{path}"], check=True, capture_output=True, text=True
    ).stdout


def simmc_turn(turn: dict[str, Any], topic: str | None) -> dict[str, Any] | None:
    """One labelled shopper turn, or None where the act has no counterpart in a text store."""
    annotated = turn["transcript_annotated"]
    kind = ACTS.get(annotated["act"])
    if kind is None:
        return None
    new_type = annotated["act_attributes"]["slot_values"].get("type")
    if kind == "products":
        resolve = None if (annotated["act"] == "REQUEST:GET" and new_type) else "previous_topic"
    else:
        resolve = "shown_products"
    return {
        "text": turn["transcript"],
        "act": annotated["act"],
        "expected": kind,
        "resolve_against": resolve,
        "topic": STORE_TYPES.get(new_type, topic) if resolve is None else topic,
    }


def simmc_dialogues(mirror_root: Path) -> list[dict[str, Any]]:
    """Fashion dialogues that open on a garment the store sells, cut before scene-bound turns."""
    repo, commit, licence = SIMMC
    data = json.loads(git_show(mirror_root, repo, commit, SIMMC_FILE))["dialogue_data"]
    dialogues = []
    for dialogue in data:
        first = dialogue["dialogue"][0]["transcript_annotated"]
        topic = STORE_TYPES.get(first["act_attributes"]["slot_values"].get("type", ""))
        if first["act"] != "REQUEST:GET" or topic is None:
            continue
        turns = []
        for turn in dialogue["dialogue"]:
            slot_type = turn["transcript_annotated"]["act_attributes"]["slot_values"].get("type")
            if turn["transcript_annotated"]["act"] == "INFORM:DISAMBIGUATE" or (
                slot_type and slot_type not in STORE_TYPES
            ):
                break
            labelled = simmc_turn(turn, topic)
            if labelled is None:
                break
            topic = labelled["topic"]
            turns.append(labelled)
            if len(turns) == MAX_TURNS:
                break
        if len(turns) >= 2:
            dialogues.append(
                {
                    "id": f"simmc2-dev-{dialogue['dialogue_idx']}",
                    "source": repo,
                    "licence": licence,
                    "turns": turns,
                }
            )
    dialogues.sort(key=lambda d: int(d["id"].rsplit("-", 1)[1]))
    return dialogues[:MAX_SIMMC_DIALOGUES]


def abcd_dialogues(mirror_root: Path) -> list[dict[str, Any]]:
    """Each sample conversation's first request (a policy question) and its closing line."""
    repo, commit, licence = ABCD
    dialogues = []
    for conversation in json.loads(git_show(mirror_root, repo, commit, ABCD_FILE)):
        customer = [text for speaker, text in conversation["original"] if speaker == "customer"]
        subflow = conversation["scenario"]["subflow"]
        opening = next(text for text in customer if len(text.split()) > 4)
        dialogues.append(
            {
                "id": f"abcd-{conversation['convo_id']}",
                "source": repo,
                "licence": licence,
                "subflow": subflow,
                "turns": [
                    {"text": opening, "act": subflow, "expected": ABCD_OPENINGS[subflow], "resolve_against": None},
                    {"text": customer[-1], "act": "closing", "expected": "acknowledgement", "resolve_against": None},
                ],
            }
        )
    return dialogues


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mirror-root", type=Path, default=Path("/work/.mirror"))
    args = parser.parse_args(argv)
    dialogues = simmc_dialogues(args.mirror_root) + abcd_dialogues(args.mirror_root)
    out = HERE / "dialogues.jsonl"
    out.write_text("".join(json.dumps(d, ensure_ascii=False) + "\n" for d in dialogues), encoding="utf-8")
    turns = [turn for d in dialogues for turn in d["turns"]]
    print(
        f"{len(dialogues)} dialogues, {len(turns)} turns, "
        f"{sum(t['resolve_against'] is not None for t in turns)} follow-ups to resolve -> {out}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
