"""Group the messages the bot did not understand by meaning, with the catalog's encoder.

"do you price match", "will you match a lower price?" and "price matching??" are one
question the shop should teach the bot; counting them apart hides it. Messages are
embedded with the same MiniLM model the catalog index uses (unit vectors, so a dot
product is the cosine) and grouped greedily, most frequent wording first: a message joins
the first group whose leading wording is at least :data:`SAME_MEANING` similar.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from catalog_index.embedder import ModelRef

SAME_MEANING = 0.7
Embed = Callable[[Sequence[str]], np.ndarray]


def normalized(text: str) -> str:
    """Lower case, single spaces, no punctuation at the ends: "Do you price match?" is "do you price match"."""
    return " ".join(text.lower().split()).strip(" .,;:!?¿¡")


def group_by_meaning(texts: Sequence[str], embed: Embed | None, top: int = 10) -> list[dict[str, Any]]:
    """``[{"example", "count", "variants"}]``, largest groups first; exact wording only without ``embed``."""
    wordings = Counter(normalized(text) for text in texts if text and text.strip())
    ordered = [wording for wording, _ in wordings.most_common()]
    if not ordered:
        return []
    vectors = embed(ordered) if embed is not None else None
    leaders: list[int] = []
    members: dict[int, list[int]] = {}
    for position in range(len(ordered)):
        home = None
        if vectors is not None and leaders:
            similarity = vectors[leaders] @ vectors[position]
            best = int(np.argmax(similarity))
            home = leaders[best] if similarity[best] >= SAME_MEANING else None
        if home is None:
            leaders.append(position)
            members[position] = [position]
        else:
            members[home].append(position)
    groups: list[dict[str, Any]] = [
        {"example": ordered[leader], "count": sum(wordings[ordered[m]] for m in group),
         "variants": [ordered[m] for m in group[:5]]}
        for leader, group in members.items()
    ]
    groups.sort(key=lambda group: (-group["count"], group["example"]))
    return groups[:top]


def catalog_encoder(model: ModelRef) -> Embed:
    """The catalog index's sentence encoder as an :data:`Embed` (loaded once per call site)."""
    from catalog_index.embedder import EmbeddingModel

    embedder = EmbeddingModel.of(model).load()
    return lambda texts: embedder.embed(list(texts))
