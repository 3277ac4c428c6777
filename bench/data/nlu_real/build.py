"""Derive the real-language intent evaluation set (``tune.jsonl``, ``test.jsonl``) from public corpora.

Why: the team's own holdout is written by the same hands as the training data and flatters the
model (0.95 there, 0.74 on real shoppers). This set holds only messages that real people wrote
for other assistants, labelled by the corpus authors; ``mapping.csv`` says which source label
becomes which of our intents, and every label not listed there is dropped, never guessed.

Steps, all deterministic (no random state: order is a hash of the text):

1. read each corpus from its git snapshot at a pinned commit (``fetch`` puts them under
   ``/work/.mirror/<owner>+<name>/repo``; a plain ``git clone`` works as well, see ``--mirror-root``);
2. keep mapped labels, drop empty and over-long messages, and drop texts that carry two
   different intents after normalisation (the corpora disagree, so the label is not clean);
3. drop exact and near duplicates of our training data (``data/nlu/*.yml``) and report them;
4. cap each source label and each intent so no intent or domain dominates;
5. group near-duplicate messages into clusters and split whole clusters into ``tune``
   (may be used to choose thresholds and epochs) and ``test`` (never used for a choice),
   so paraphrases of one prompt never straddle the two splits.

Usage (stdlib + PyYAML; runs in ``.venv``)::

    .venv/bin/python bench/data/nlu_real/build.py [--mirror-root /work/.mirror]
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import re
import subprocess
import sys
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
PROJECT_ROOT = HERE.parents[2]
TRAINING_DIR = PROJECT_ROOT / "data" / "nlu"

# (repository, pinned commit, licence): the exact versions the committed files come from.
CORPORA = {
    "hint3": ("hellohaptik/HINT3", "99965c892ea9a6801a87083d3861b0b04c91a4e7", "ODbL-1.0 / DbCL-1.0"),
    "hwu64": ("xliuhw/NLU-Evaluation-Data", "f6071b496b17d71e6eb43f543af0707f4ff30557", "CC-BY-4.0"),
    "snips": ("sonos/nlu-benchmark", "b86ac7f1577868c42158d0dec77db50956046696", "CC0-1.0"),
    "banking77": ("PolyAI-LDN/task-specific-datasets", "57ec275d8078af65b7731c2a98be812d844a6d6b", "CC-BY-4.0"),
}
HWU_FOLD = "CrossValidation/autoGeneFromRealAnno/autoGene_2018_03_22-13_01_25_169/CrossValidation/KFold_1"
SNIPS_DIR = "2017-06-custom-intent-engines"

MAX_CHARS = 200  # longer messages are multi-request rants; one intent label does not fit them
CAP_IN_SCOPE_LABEL = 40  # items per (source, source label) for our shop intents
CAP_OUT_OF_SCOPE_LABEL = 3  # items per out-of-scope label: breadth over depth
CAP_INTENT = 120  # items per intent over all sources
CAP_OUT_OF_SCOPE = 200  # out_of_scope spans 85 source labels in 4 corpora: the broadest class
NEAR_DUPLICATE_JACCARD = 0.8  # token-set overlap at which two messages count as the same message
CLUSTER_JACCARD = 0.6  # looser overlap that keeps paraphrases of one prompt in one split


@dataclass(frozen=True)
class Item:
    """One labelled real message and where it came from."""

    text: str
    intent: str
    source: str
    source_label: str
    licence: str


def normalise(text: str) -> str:
    """Lowercase words and digits only, so punctuation and spacing never hide a duplicate."""
    return " ".join(re.findall(r"[a-z0-9]+", text.lower()))


def tokens(text: str) -> frozenset[str]:
    return frozenset(normalise(text).split())


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0


def stable_key(text: str) -> str:
    """Order and split by a hash of the text: reproducible without a random seed."""
    return hashlib.sha1(normalise(text).encode()).hexdigest()


class Snapshot:
    """Reads files of one corpus from its git directory at the pinned commit."""

    def __init__(self, mirror_root: Path, corpus: str) -> None:
        repo, self.commit, self.licence = CORPORA[corpus]
        self.git_dir = mirror_root / repo.replace("/", "+") / "repo"
        if not self.git_dir.is_dir():
            raise SystemExit(f"missing snapshot of {repo}: fetch it to {self.git_dir} (or git clone --bare)")

    def read(self, path: str) -> str:
        return subprocess.run(
            ["git", "--git-dir", str(self.git_dir), "show", f"{self.commit}:{path}"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout

    def list(self, folder: str) -> list[str]:
        out = subprocess.run(
            ["git", "--git-dir", str(self.git_dir), "ls-tree", "--name-only", f"{self.commit}", f"{folder}/"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        return out.split()


def load_mapping(path: Path = HERE / "mapping.csv") -> dict[tuple[str, str], str]:
    """``(source, source_label) -> intent``; lines starting with ``#`` are section notes."""
    mapping = {}
    with path.open(encoding="utf-8") as handle:
        for row in csv.DictReader(line for line in handle if not line.startswith("#")):
            mapping[(row["source"], row["source_label"])] = row["intent"]
    return mapping


def read_hint3(snapshot: Snapshot) -> Iterator[tuple[str, str, str]]:
    """(source, label, text) from the v2 train and test files of the three HINT3 bots."""
    for bot in ("sofmattress", "curekart", "powerplay11"):
        for split in ("train", "test"):
            for row in csv.DictReader(io.StringIO(snapshot.read(f"dataset/v2/{split}/{bot}_{split}.csv"))):
                yield f"hint3_{bot}", row["label"], row["sentence"]


def read_hwu64(snapshot: Snapshot) -> Iterator[tuple[str, str, str]]:
    """Fold 1's train and test halves together are the whole HWU64 collection."""
    for half in ("trainset", "testset"):
        for path in snapshot.list(f"{HWU_FOLD}/{half}/csv"):
            reader = csv.DictReader(io.StringIO(snapshot.read(path)), delimiter=";")
            for row in reader:
                yield "hwu64", f"{row['scenario']}_{row['intent']}", row["answer_from_anno"]


def read_snips(snapshot: Snapshot) -> Iterator[tuple[str, str, str]]:
    for intent_dir in snapshot.list(SNIPS_DIR):
        intent = intent_dir.rsplit("/", 1)[-1]
        if intent == "README.md":
            continue
        for name in (f"train_{intent}.json", f"validate_{intent}.json"):
            for example in json.loads(snapshot.read(f"{intent_dir}/{name}"))[intent]:
                yield "snips", intent, "".join(chunk["text"] for chunk in example["data"])


def read_banking77(snapshot: Snapshot) -> Iterator[tuple[str, str, str]]:
    for split in ("train", "test"):
        for row in csv.DictReader(io.StringIO(snapshot.read(f"banking_data/{split}.csv"))):
            yield "banking77", row["category"], row["text"]


READERS = {"hint3": read_hint3, "hwu64": read_hwu64, "snips": read_snips, "banking77": read_banking77}


def mapped_items(mirror_root: Path, mapping: dict[tuple[str, str], str]) -> tuple[list[Item], Counter[str]]:
    """Every message whose label is in the mapping, plus counts of what was dropped and why."""
    items, dropped = [], Counter()
    for corpus, reader in READERS.items():
        snapshot = Snapshot(mirror_root, corpus)
        for source, label, raw in reader(snapshot):
            text = " ".join(raw.split())
            intent = mapping.get((source, label))
            if intent is None:
                dropped["label not mapped"] += 1
            elif not normalise(text):
                dropped["empty"] += 1
            elif len(text) > MAX_CHARS:
                dropped["longer than 200 characters"] += 1
            else:
                items.append(Item(text, intent, source, label, snapshot.licence))
    return items, dropped


def drop_conflicts_and_repeats(items: list[Item], dropped: Counter[str]) -> list[Item]:
    """One item per normalised text; texts labelled with two different intents go entirely."""
    by_text: dict[str, list[Item]] = defaultdict(list)
    for item in items:
        by_text[normalise(item.text)].append(item)
    kept = []
    for group in by_text.values():
        if len({item.intent for item in group}) > 1:
            dropped["same text, conflicting intents"] += len(group)
            continue
        dropped["exact repeat within the corpora"] += len(group) - 1
        kept.append(min(group, key=lambda item: (item.source, item.source_label, item.text)))
    return kept


def training_texts(training_dir: Path = TRAINING_DIR) -> list[str]:
    """Plain text of every training example, entity annotations ``[x](entity)`` removed."""
    texts = []
    for path in sorted(training_dir.glob("*.yml")):
        for block in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("nlu", []):
            for line in (block.get("examples") or "").splitlines():
                line = line.strip()
                if line.startswith("- "):
                    texts.append(re.sub(r"\[([^\]]*)\](\([^)]*\)|\{[^}]*\})", r"\1", line[2:]))
    return texts


def drop_training_overlap(items: list[Item], training: list[str]) -> tuple[list[Item], list[dict[str, str]]]:
    """Removes messages equal or nearly equal to a training example; returns the pairs found."""
    exact = {normalise(text): text for text in training}
    index: dict[str, list[int]] = defaultdict(list)
    train_tokens = [tokens(text) for text in training]
    for position, words in enumerate(train_tokens):
        for word in words:
            index[word].append(position)
    kept, overlaps = [], []
    for item in items:
        key = normalise(item.text)
        match, kind = exact.get(key), "exact"
        if match is None:
            words = tokens(item.text)
            candidates = {position for word in words for position in index.get(word, ())}
            best = max(candidates, key=lambda p: jaccard(words, train_tokens[p]), default=None)
            if best is not None and len(words) >= 3 and jaccard(words, train_tokens[best]) >= NEAR_DUPLICATE_JACCARD:
                match, kind = training[best], "near"
        if match is None:
            kept.append(item)
        else:
            overlaps.append({"kind": kind, "text": item.text, "intent": item.intent, "training_example": match})
    return kept, overlaps


def cap(items: list[Item]) -> list[Item]:
    """Caps per source label (tighter for out_of_scope, for breadth) and then per intent."""
    by_label: dict[tuple[str, str], list[Item]] = defaultdict(list)
    for item in sorted(items, key=lambda item: stable_key(item.text)):
        by_label[(item.source, item.source_label)].append(item)
    capped = []
    for group in by_label.values():
        limit = CAP_OUT_OF_SCOPE_LABEL if group[0].intent == "out_of_scope" else CAP_IN_SCOPE_LABEL
        capped.extend(group[:limit])
    by_intent: dict[str, list[Item]] = defaultdict(list)
    for item in sorted(capped, key=lambda item: stable_key(item.text)):
        by_intent[item.intent].append(item)
    return [
        item
        for intent, group in by_intent.items()
        for item in group[: CAP_OUT_OF_SCOPE if intent == "out_of_scope" else CAP_INTENT]
    ]


def clusters(items: list[Item]) -> list[int]:
    """Union-find over items whose token sets overlap by ``CLUSTER_JACCARD``; returns a root per item."""
    parent = list(range(len(items)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    words = [tokens(item.text) for item in items]
    for i in range(len(items)):
        for j in range(i + 1, len(items)):
            if jaccard(words[i], words[j]) >= CLUSTER_JACCARD:
                parent[root(i)] = root(j)
    return [root(i) for i in range(len(items))]


def split(items: list[Item]) -> dict[str, list[dict[str, str]]]:
    """Whole clusters go to ``tune`` or ``test`` by a hash of the cluster's first text."""
    roots = clusters(items)
    members: dict[int, list[int]] = defaultdict(list)
    for position, cluster_root in enumerate(roots):
        members[cluster_root].append(position)
    splits: dict[str, list[dict[str, str]]] = {"tune": [], "test": []}
    for positions in members.values():
        anchor = min(stable_key(items[p].text) for p in positions)
        name = "tune" if int(anchor, 16) % 2 == 0 else "test"
        for p in positions:
            splits[name].append({**asdict(items[p]), "cluster": anchor[:12]})
    for rows in splits.values():
        rows.sort(key=lambda row: (row["intent"], row["source"], row["text"].lower()))
    return splits


def write_jsonl(path: Path, rows: list[dict[str, str]]) -> None:
    path.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mirror-root", type=Path, default=Path("/work/.mirror"))
    parser.add_argument("--out-dir", type=Path, default=HERE)
    args = parser.parse_args(argv)
    items, dropped = mapped_items(args.mirror_root, load_mapping())
    items = drop_conflicts_and_repeats(items, dropped)
    items, overlaps = drop_training_overlap(items, training_texts())
    dropped["exact match with training data"] = sum(o["kind"] == "exact" for o in overlaps)
    dropped["near match with training data"] = sum(o["kind"] == "near" for o in overlaps)
    before_cap = len(items)
    items = cap(items)
    dropped["over the per-label or per-intent cap"] = before_cap - len(items)
    splits = split(items)
    for name, rows in splits.items():
        write_jsonl(args.out_dir / f"{name}.jsonl", rows)
    report = {
        "sources": {
            name: {"repo": repo, "commit": commit, "licence": lic} for name, (repo, commit, lic) in CORPORA.items()
        },
        "dropped": dict(dropped),
        "training_overlap": overlaps,
        "splits": {
            name: {
                "items": len(rows),
                "clusters": len({row["cluster"] for row in rows}),
                "by_intent": dict(sorted(Counter(row["intent"] for row in rows).items())),
                "by_source": dict(sorted(Counter(row["source"] for row in rows).items())),
            }
            for name, rows in splits.items()
        },
    }
    (args.out_dir / "build_report.json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    print(json.dumps({"dropped": report["dropped"], "splits": report["splits"]}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
