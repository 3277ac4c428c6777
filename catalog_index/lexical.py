"""The lexical (BM25) leg of hybrid search: model numbers, SKUs and brand names hit exactly.

Sentence embeddings blur identifiers ("65w", "wh-1000xm4", "KES-TSH-00001-GRE") and rare
brand names; BM25 over the product's words does not.  Scoring and storage come from
``bm25s`` (sparse score matrix, plain ``.npy``/JSON files, no pickles); what is ours is the
tokenizer, which keeps codes whole *and* adds their parts and their joined form, so
"usb-c", "usb c" and "usbc" all meet, writes measures one way on both sides ("3/4 in." and
'0.75"' are one term, ``units.py``), and stems plain words (PyStemmer's Snowball English,
no downloads) so "couches" finds "couch".

Fields are scored apart and weighed (:data:`FIELD_WEIGHTS`): a word in the title says more
than the same word deep in a description, and a long description should not dilute a
title match through BM25's length normalization, which one concatenated document did.
A field no product fills (a bare id-and-title catalog has only titles) gets no index.
The files live in ``lexical/<field>/`` inside the index directory and are checksummed by
the manifest like the FAISS file.
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
from catalog_index.units import normalize_units

# Changing the tokenizer or the fields makes stored vocabularies wrong: bump this and the
# manifest check refuses (and ``ensure_index`` rebuilds) indexes written by the old one.
LEXICAL_FORMAT = f"bm25s-{bm25s.__version__}/lucene/snowball-en/v2-fields-units"
LEXICAL_DIR = "lexical"
# Field weights: chosen on the tune half of the demo judgments (bench/search_quality.py; a real
# title-only catalog has no other field to weigh).  Grid attributes {0.6..1.5} x description
# {0.1..0.6}: BM25 alone 0.812-0.855 NDCG@10, the default fusion 0.846-0.854, so the ranking is
# not sensitive to them; the best default-fusion point that keeps title > attributes > description.
# BM25 k1 and b barely mattered on the real catalog (k1 0.6-2.0, b 0.3-1.0: 0.742-0.755).
FIELD_WEIGHTS: dict[str, float] = {"title": 1.0, "attributes": 0.8, "description": 0.6}
ATTRIBUTE_KEYS = ("brand", "sku", "category", "subcategory", "color")
BM25_K1 = 1.2
BM25_B = 0.75

_SEPARATOR = re.compile(r"[-_.]")
_NUMBER_UNIT = re.compile(r"^(\d+(?:\.\d+)?)([a-z]+)$")  # "65w", "500ml", "0.75in" (units.py writes measures so)
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
    for token in tokens(normalize_units(text)):
        unit = _NUMBER_UNIT.match(token)
        if unit:  # a measure: whole, and its number for a shopper who gave no unit
            terms.extend((token, unit.group(1)))
            continue
        if _SEPARATOR.search(token):
            parts = [part for part in _SEPARATOR.split(token) if part]
            terms.append(token)
            terms.append("".join(parts))
            terms.extend(_stem(part) for part in parts if part not in _STOPWORDS)
            continue
        if token in _STOPWORDS:
            continue
        terms.append(_stem(token))
    return terms


def field_texts(product: dict[str, Any]) -> dict[str, str]:
    """The text of each weighed field: the title, the attributes a shopper names, the description."""
    attributes = [str(product[key]) for key in ATTRIBUTE_KEYS if product.get(key)]
    attributes.extend(str(tag) for tag in product.get("tags") or [] if tag)
    return {
        "title": str(product["title"]),
        "attributes": " . ".join(attributes),
        "description": str(product.get("description") or ""),
    }


def files_sha256(directory: Path) -> str:
    """One SHA-256 over every file under ``directory`` (relative paths and contents, in path order)."""
    digest = hashlib.sha256()
    for path in sorted(p for p in Path(directory).rglob("*") if p.is_file()):
        digest.update(path.relative_to(directory).as_posix().encode() + b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _field_model(documents: list[list[str]]) -> bm25s.BM25:
    model = bm25s.BM25(k1=BM25_K1, b=BM25_B, method="lucene")
    model.index([terms or [""] for terms in documents], show_progress=False)
    return model


def _check_model(model: bm25s.BM25, directory: Path) -> int:
    """The document count of a loaded field model; ``ValueError`` if its files disagree."""
    count = int(model.scores["num_docs"])
    columns = len(model.scores["indptr"]) - 1  # one per term; bm25s's "" placeholder term has none
    highest_term = max((term_id for term, term_id in model.vocab_dict.items() if term), default=-1)
    if highest_term >= columns or model.scores["indices"].max(initial=0) >= count:
        raise ValueError(f"BM25 files in {directory} do not agree with each other")
    return count


class LexicalIndex:
    """Weighed BM25 scores of every product row for a query text, one BM25 model per filled field."""

    def __init__(self, models: dict[str, bm25s.BM25], count: int, weights: dict[str, float] | None = None) -> None:
        self._models = models
        self.count = count
        self.weights = dict(FIELD_WEIGHTS if weights is None else weights)

    @property
    def fields(self) -> list[str]:
        """The fields that have an index (those some product fills)."""
        return list(self._models)

    @classmethod
    def build(cls, products: Sequence[dict[str, Any]]) -> LexicalIndex:
        """Index ``products`` in row order (the FAISS row order), each filled field apart."""
        texts = [field_texts(product) for product in products]
        models: dict[str, bm25s.BM25] = {}
        for field in FIELD_WEIGHTS:
            documents = [lexical_tokens(text[field]) for text in texts]
            if field == "title" or any(documents):
                models[field] = _field_model(documents)
        return cls(models, len(products))

    def save(self, directory: Path) -> None:
        """Write one subdirectory per field into ``directory`` (inside a build's temporary directory)."""
        for field, model in self._models.items():
            (directory / field).mkdir(parents=True, exist_ok=True)
            model.save(str(directory / field), show_progress=False)

    @classmethod
    def load(cls, directory: Path) -> LexicalIndex:
        """Read what :meth:`save` wrote; ``ValueError``/``OSError`` if the files are unreadable."""
        models: dict[str, bm25s.BM25] = {}
        counts: set[int] = set()
        for field in FIELD_WEIGHTS:
            if (directory / field).is_dir():
                models[field] = bm25s.BM25.load(str(directory / field), show_progress=False)
                counts.add(_check_model(models[field], directory / field))
        if "title" not in models or len(counts) != 1:
            raise ValueError(f"BM25 files in {directory} are incomplete or disagree on the product count")
        return cls(models, counts.pop())

    def scores(self, text: str) -> np.ndarray:
        """``(count,)`` float32 weighed BM25 scores; all zero when no query term is in any field's vocabulary."""
        terms = list(dict.fromkeys(lexical_tokens(text)))
        total = np.zeros(self.count, dtype=np.float32)
        for field, model in self._models.items():
            weight = self.weights.get(field, 0.0)
            ids = model.get_tokens_ids(terms) if weight else []
            if ids:
                total += weight * np.asarray(model.get_scores_from_ids(ids), dtype=np.float32)
        return total


def title_coverage(index: LexicalIndex, text: str, rows: np.ndarray) -> np.ndarray:
    """For each of ``rows``, the share of the query's distinct terms that its title contains (0 to 1)."""
    terms = list(dict.fromkeys(lexical_tokens(text)))
    found = np.zeros(len(rows), dtype=np.float64)
    if not terms or not len(rows):
        return found
    model = index._models["title"]
    indices, indptr = model.scores["indices"], model.scores["indptr"]
    present = np.zeros(index.count, dtype=bool)
    for term_id in model.get_tokens_ids(terms):
        present[:] = False
        present[indices[indptr[term_id] : indptr[term_id + 1]]] = True  # a scatter: cheaper than a set test at 100k rows
        found += present[rows]
    return found / len(terms)


def top_rows(scores: np.ndarray, mask: np.ndarray, wanted: int) -> dict[int, float]:
    """Up to ``wanted`` passing rows with a positive score, best first (ties by row)."""
    candidates = np.flatnonzero(mask & (scores > 0))
    if len(candidates) > wanted:
        candidates = candidates[np.argpartition(-scores[candidates], wanted - 1)[:wanted]]
    ordered: Iterable[int] = sorted(candidates.tolist(), key=lambda row: (-scores[row], row))
    return {row: float(scores[row]) for row in ordered}
