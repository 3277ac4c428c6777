"""The lexical (BM25) leg of hybrid search: model numbers, SKUs and brand names hit exactly.

Sentence embeddings blur identifiers ("65w", "wh-1000xm4", "KES-TSH-00001-GRE") and rare
brand names; BM25 over the product's words does not.  Scoring and storage come from
``bm25s`` (sparse score matrix, plain ``.npy``/JSON files, no pickles); what is ours is the
tokenizer, which keeps codes whole *and* adds their parts and their joined form, so
"usb-c", "usb c" and "usbc" all meet, and stems plain words (PyStemmer's Snowball English,
no downloads) so "couches" finds "couch".  The files live in ``lexical/`` inside the index
directory and are checksummed by the manifest like the FAISS file.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import bm25s
import numpy as np
import Stemmer
from bm25s.stopwords import STOPWORDS_EN

from catalog_index.ranking import tokens

# Changing the tokenizer or the fields makes stored vocabularies wrong: bump this and the
# manifest check refuses (and ``ensure_index`` rebuilds) indexes written by the old one.
LEXICAL_FORMAT = f"bm25s-{bm25s.__version__}/lucene/snowball-en/v1"
LEXICAL_DIR = "lexical"
TITLE_REPEAT = 2  # the title counts twice: it names the product, descriptions ramble
BM25_K1 = 1.2
BM25_B = 0.75

_SEPARATOR = re.compile(r"[-_.]")
_NUMBER_UNIT = re.compile(r"^(\d+)([a-z]+)$")  # "65w", "500ml", "16gb"
_STOPWORDS = frozenset(STOPWORDS_EN)

logging.getLogger("bm25s").setLevel(logging.WARNING)


@lru_cache(maxsize=1)
def _stemmer() -> Stemmer.Stemmer:
    return Stemmer.Stemmer("english")


def _stem(word: str) -> str:
    return _stemmer().stemWord(word) if word.isalpha() else word


def lexical_tokens(text: str) -> list[str]:
    """Index/query terms: stemmed words without stop words, codes whole plus their parts and joined form."""
    terms: list[str] = []
    for token in tokens(text):
        if _SEPARATOR.search(token):
            parts = [part for part in _SEPARATOR.split(token) if part]
            terms.append(token)
            terms.append("".join(parts))
            terms.extend(_stem(part) for part in parts if part not in _STOPWORDS)
            continue
        if token in _STOPWORDS:
            continue
        terms.append(_stem(token))
        unit = _NUMBER_UNIT.match(token)
        if unit:
            terms.append(unit.group(1))
    return terms


def lexical_text(product: dict[str, Any]) -> str:
    """Every field a shopper might name, title repeated to weigh it above the description."""
    parts: list[str] = [product["title"]] * TITLE_REPEAT
    for key in ("brand", "sku", "category", "subcategory", "color"):
        if product.get(key):
            parts.append(str(product[key]))
    parts.extend(str(tag) for tag in product.get("tags") or [] if tag)
    if product.get("description"):
        parts.append(str(product["description"]))
    return " . ".join(parts)


def files_sha256(directory: Path) -> str:
    """One SHA-256 over every file of ``directory`` (names and contents, in name order)."""
    digest = hashlib.sha256()
    for path in sorted(Path(directory).iterdir()):
        digest.update(path.name.encode() + b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()


class LexicalIndex:
    """BM25 scores of every product row for a query text."""

    def __init__(self, model: bm25s.BM25, count: int) -> None:
        self._model = model
        self.count = count

    @classmethod
    def build(cls, products: Sequence[dict[str, Any]]) -> LexicalIndex:
        """Index ``products`` in row order (the FAISS row order)."""
        model = bm25s.BM25(k1=BM25_K1, b=BM25_B, method="lucene")
        model.index([lexical_tokens(lexical_text(product)) or [""] for product in products], show_progress=False)
        return cls(model, len(products))

    def save(self, directory: Path) -> None:
        """Write the index files into ``directory`` (inside a build's temporary directory)."""
        self._model.save(str(directory), show_progress=False)

    @classmethod
    def load(cls, directory: Path) -> LexicalIndex:
        """Read what :meth:`save` wrote; ``ValueError``/``OSError`` if the files are unreadable."""
        model = bm25s.BM25.load(str(directory), show_progress=False)
        count = int(model.scores["num_docs"])
        columns = len(model.scores["indptr"]) - 1  # one per term; bm25s's "" placeholder term has none
        highest_term = max((term_id for term, term_id in model.vocab_dict.items() if term), default=-1)
        if highest_term >= columns or model.scores["indices"].max(initial=0) >= count:
            raise ValueError(f"BM25 files in {directory} do not agree with each other")
        return cls(model, count)

    def scores(self, text: str) -> np.ndarray:
        """``(count,)`` float32 BM25 scores; all zero when no query term is in the vocabulary."""
        ids = self._model.get_tokens_ids(list(dict.fromkeys(lexical_tokens(text))))
        if not ids:
            return np.zeros(self.count, dtype=np.float32)
        return np.asarray(self._model.get_scores_from_ids(ids), dtype=np.float32)


def top_rows(scores: np.ndarray, mask: np.ndarray, wanted: int) -> dict[int, float]:
    """Up to ``wanted`` passing rows with a positive score, best first (ties by row)."""
    candidates = np.flatnonzero(mask & (scores > 0))
    if len(candidates) > wanted:
        candidates = candidates[np.argpartition(-scores[candidates], wanted - 1)[:wanted]]
    ordered: Iterable[int] = sorted(candidates.tolist(), key=lambda row: (-scores[row], row))
    return {row: float(scores[row]) for row in ordered}
