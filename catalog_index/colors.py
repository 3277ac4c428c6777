"""Colour words, synonyms and families shared by query parsing and filtering.

A shopper who asks for "blue" expects navy and sky-blue products too, while one who asks
for "navy" wants navy only.  So a product colour keeps its own name and also answers to
its family head: ``color_keys("navy blue") == {"navy blue", "navy", "blue"}``, and a
filter colour matches a product when the filter's canonical name is among those keys.
"""

from __future__ import annotations

import re

SYNONYMS: dict[str, str] = {
    "gray": "grey",
    "multicolour": "multicolor",
    "multi-color": "multicolor",
    "multi-colour": "multicolor",
    "fuchsia": "magenta",
}

# family head -> shades that also answer to the head
FAMILIES: dict[str, frozenset[str]] = {
    "blue": frozenset({"navy", "cobalt", "azure", "indigo", "denim", "royal blue", "sky blue", "light blue", "dark blue"}),
    "red": frozenset({"burgundy", "maroon", "crimson", "scarlet", "wine", "cherry"}),
    "green": frozenset({"olive", "khaki green", "forest green", "mint", "sage", "emerald", "lime"}),
    "grey": frozenset({"charcoal", "slate", "silver", "ash", "heather grey", "light grey", "dark grey"}),
    "brown": frozenset({"tan", "chocolate", "camel", "cognac", "walnut", "coffee", "mocha"}),
    "white": frozenset({"ivory", "cream", "off-white", "off white", "snow"}),
    "beige": frozenset({"sand", "khaki", "taupe", "stone", "oatmeal"}),
    "purple": frozenset({"violet", "lavender", "lilac", "plum", "magenta"}),
    "pink": frozenset({"rose", "blush", "coral", "salmon"}),
    "yellow": frozenset({"mustard", "lemon", "gold"}),
    "orange": frozenset({"rust", "amber", "peach"}),
    "black": frozenset({"jet black", "onyx"}),
    "teal": frozenset({"turquoise", "aqua", "cyan"}),
}

# Words recognised as colours in any catalog; a catalog's own colours are added at parse time.
# Ambiguous everyday words (rose, wine, stone, snow, ash, lime...) are left out of the
# query vocabulary on purpose: they still work as product colours and family members.
QUERY_COLOR_WORDS: frozenset[str] = frozenset(
    {
        "red", "blue", "navy", "green", "olive", "black", "white", "grey", "gray", "charcoal",
        "silver", "gold", "yellow", "orange", "pink", "purple", "violet", "brown", "tan", "beige",
        "cream", "ivory", "khaki", "maroon", "burgundy", "teal", "turquoise", "magenta",
        "lavender", "multicolor", "multicolour", "light blue", "sky blue", "dark blue",
        "royal blue", "light grey", "dark grey", "light gray", "dark gray",
    }
)

COLOR_SEPARATORS = re.compile(r"[/&,+]|\band\b")


def canonical_color(color: str) -> str:
    """Lower-case, trimmed, with spelling synonyms folded (gray -> grey)."""
    words = " ".join(color.lower().split())
    words = SYNONYMS.get(words, words)
    return " ".join(SYNONYMS.get(word, word) for word in words.split())


def _family_heads(shade: str) -> set[str]:
    return {head for head, shades in FAMILIES.items() if shade in shades}


def color_keys(color: str | None) -> set[str]:
    """Every colour name a product of this colour should answer to (see module doc)."""
    if not color:
        return set()
    full = canonical_color(color)
    keys = {full}
    parts = [canonical_color(part) for part in COLOR_SEPARATORS.split(full) if part.strip()]
    for part in parts:
        keys.add(part)
        keys.update(part.split())
    for key in list(keys):
        keys.update(_family_heads(key))
    return keys
