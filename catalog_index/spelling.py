"""Spelling correction of query words from the catalog's own vocabulary.

A shopper's typo ("refridgerator", "headphnes") matches nothing in BM25 and blurs the query
embedding.  The catalog already says how its products are spelled, so a query word is
corrected only toward a word the catalog uses, and only when:

* the word is not in the catalog and not a known word of the language (the embedding
  model's word list, passed in as ``known_words``), so "gift" is never "fixed" to "gilt";
* it is alphabetic and at least :data:`MIN_LENGTH` letters long (short words and codes
  such as "xl" or "wh1000" are too ambiguous to guess);
* a catalog word lies within one edit (insertion, deletion, substitution or swap of two
  neighbouring letters); among several, the most frequent in the catalog wins.

Lookups use symmetric deletes (the SymSpell idea): every catalog word is stored under each
of its one-letter deletions, so candidates for a query word come from a few dictionary
lookups instead of a scan of the vocabulary.

Shoppers also split one catalog word in two ("sky rim" for "Skyrim", "nutri system",
"back pack") or run two together ("blackops", "deadisland"), which BM25 cannot match and the
embedding blurs.  Two neighbouring query words are joined when their concatenation is a
catalog word that the catalog writes joined more often than apart (``tool box`` stays when
the titles say "Tool Box" more than "Toolbox"); a query word the catalog lacks is split when
the catalog writes its two halves side by side.  The catalog's adjacent word pairs are kept
as one sorted array of 64-bit hashes with counts (8 bytes a pair, not a dictionary of
strings).  Measured on the public real-data benches (``bench/search_real.py``, bench/README.md).
"""

from __future__ import annotations

import re
from array import array
from collections import Counter
from collections.abc import Iterable

import numpy as np

MIN_LENGTH = 4
MIN_SPLIT_PART = 2  # a split word's halves have at least this many letters ("xb ox" is no evidence)
_WORD = re.compile(r"(?<![\w-])[A-Za-z]+(?![\w-])")  # whole words only, never part of a code
# two whole words on one line with spaces between them (the first one captured with its spaces)
_PAIR = re.compile(r"(?<![\w-])([A-Za-z]+)[^\S\n]+(?=([A-Za-z]+)(?![\w-]))")


def _deletes(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


def within_one_edit(a: str, b: str) -> bool:
    """Whether ``a`` becomes ``b`` by one insertion, deletion, substitution or adjacent swap."""
    if a == b:
        return False
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diffs = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
        adjacent_swap = len(diffs) == 2 and diffs[1] == diffs[0] + 1 and a[diffs[0]] == b[diffs[1]] and a[diffs[1]] == b[diffs[0]]
        return len(diffs) == 1 or adjacent_swap
    short, long = (a, b) if len(a) < len(b) else (b, a)
    return any(long[:i] + long[i + 1 :] == short for i in range(len(long)))


def _pair_key(first: str, second: str) -> int:
    """The key two neighbouring words are counted under (the process's string hash; never stored)."""
    return hash(f"{first} {second}")


class SpellingCorrector:
    """Corrects query words toward the catalog's words; built once per loaded index version."""

    def __init__(self, texts: Iterable[str], known_words: Iterable[str] = ()) -> None:
        """``texts``: the product texts (their words counted); ``known_words``: correct words to leave alone."""
        # one scan over all the text: a catalog of 100,000 products loads in well under a second
        text = "\n".join(texts).lower()
        self.frequency: Counter[str] = Counter(_WORD.findall(text))
        self.known = frozenset(word.lower() for word in known_words)
        keys = array("q", (_pair_key(match.group(1), match.group(2)) for match in _PAIR.finditer(text)))
        self._pair_keys, self._pair_counts = np.unique(np.frombuffer(keys, dtype=np.int64), return_counts=True)
        self._by_delete: dict[str, list[str]] = {}
        for word in self.frequency:
            if len(word) >= MIN_LENGTH - 1:
                for deleted in _deletes(word):
                    self._by_delete.setdefault(deleted, []).append(word)

    def suggestion(self, word: str) -> str | None:
        """The catalog word ``word`` should be, or ``None`` to keep it as typed."""
        word = word.lower()
        if len(word) < MIN_LENGTH or not word.isalpha() or word in self.frequency or word in self.known:
            return None
        candidates = set(self._by_delete.get(word, ()))  # the shopper left a letter out
        for deleted in _deletes(word):
            if deleted in self.frequency:  # an extra letter
                candidates.add(deleted)
            candidates.update(self._by_delete.get(deleted, ()))  # a wrong or swapped letter
        candidates = {candidate for candidate in candidates if within_one_edit(word, candidate)}
        if not candidates:
            return None
        return max(sorted(candidates), key=lambda candidate: self.frequency[candidate])

    def written_apart(self, first: str, second: str) -> int:
        """How often the catalog writes ``first second`` side by side (lower case; a 64-bit hash collision aside)."""
        key = _pair_key(first, second)
        at = int(np.searchsorted(self._pair_keys, key))
        return int(self._pair_counts[at]) if at < len(self._pair_keys) and self._pair_keys[at] == key else 0

    def joined(self, first: str, second: str) -> str | None:
        """The catalog word ``first second`` should be written as, or ``None`` to keep the two words."""
        first, second = first.lower(), second.lower()
        together = self.frequency.get(first + second, 0)
        return first + second if together > self.written_apart(first, second) else None

    def split(self, word: str) -> str | None:
        """``word`` as the two catalog words the catalog writes side by side most often, or ``None``.

        Only for an alphabetic word the catalog does not use and that is no known word ("blackops"
        when titles say "Black Ops"; never "toolbox" when the catalog has it).
        """
        word = word.lower()
        if len(word) < 2 * MIN_SPLIT_PART or not word.isalpha() or word in self.frequency or word in self.known:
            return None
        best, best_count = None, 0
        for cut in range(MIN_SPLIT_PART, len(word) - MIN_SPLIT_PART + 1):
            first, second = word[:cut], word[cut:]
            if first in self.frequency and second in self.frequency:
                count = self.written_apart(first, second)
                if count > best_count:
                    best, best_count = f"{first} {second}", count
        return best

    def correct(self, text: str) -> str:
        """``text`` with split catalog words joined, run-together ones split, then typos corrected.

        Case and punctuation are kept elsewhere.
        """

        def replace(match: re.Match[str]) -> str:
            return self.split(match.group(0)) or self.suggestion(match.group(0)) or match.group(0)

        return _WORD.sub(replace, self._join_pairs(text))

    def _join_pairs(self, text: str) -> str:
        """``text`` with each pair of neighbouring words that the catalog writes as one word joined (left to right)."""
        out: list[str] = []
        position = 0
        for match in _PAIR.finditer(text):
            if match.start() < position:  # its first word was already joined to the word before it
                continue
            word = self.joined(match.group(1), match.group(2))
            if word is not None:
                out.append(text[position : match.start()] + word)
                position = match.end() + len(match.group(2))
        return "".join(out) + text[position:]
