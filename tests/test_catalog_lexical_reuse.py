"""BM25 scores computed from term ids, and incremental builds that tokenize only what changed (issue #15.6)."""

from __future__ import annotations

from pathlib import Path

import bm25s
import numpy as np

from catalog_index.lexical import (
    BM25_B,
    BM25_K1,
    FIELD_WEIGHTS,
    FieldTerms,
    LexicalIndex,
    PreviousTerms,
    field_texts,
    lexical_tokens,
)

PRODUCTS = [
    {"id": "a", "title": "Trail Running Shoes 10.5", "brand": "Peakform", "description": "Light and grippy on wet rock."},
    {"id": "b", "title": "Hiking Socks (3 pack)", "description": "Merino wool socks for trail running shoes."},
    {"id": "c", "title": "USB-C 65W Charger", "category": "electronics", "tags": ["usb c", "charger"]},
    {"id": "d", "title": "Coffee Mug 12 oz", "description": ""},
    {"id": "e", "title": "3/4 in. Copper Pipe Fitting", "color": "copper"},
]
QUERIES = ["trail running shoes", "usb c charger 65w", "copper pipe 0.75 inch", "mug", "merino socks", "nothing here"]


def bm25s_reference(products: list[dict]) -> LexicalIndex:
    """The same fields indexed by ``bm25s``'s own per-document indexing, as the index was built before."""
    models = {}
    for field in FIELD_WEIGHTS:
        documents = [lexical_tokens(field_texts(product)[field]) for product in products]
        if field == "title" or any(documents):
            model = bm25s.BM25(k1=BM25_K1, b=BM25_B, method="lucene")
            model.index([terms or [""] for terms in documents], show_progress=False)
            models[field] = model
    return LexicalIndex(models, len(products))


def test_scores_from_term_ids_equal_bm25s_indexing() -> None:
    ours, reference = LexicalIndex.build(PRODUCTS), bm25s_reference(PRODUCTS)
    assert ours.fields == reference.fields == ["title", "attributes", "description"]
    for query in QUERIES:
        assert np.allclose(ours.scores(query), reference.scores(query), rtol=1e-5, atol=1e-6), query


def test_saved_terms_load_back_and_an_incremental_build_equals_a_full_one(tmp_path: Path) -> None:
    LexicalIndex.build(PRODUCTS).save(tmp_path)
    loaded = LexicalIndex.load(tmp_path)
    assert np.array_equal(loaded.scores("copper pipe"), LexicalIndex.build(PRODUCTS).scores("copper pipe"))
    previous = PreviousTerms.load(PRODUCTS, tmp_path)
    assert set(previous.fields) == {"title", "attributes", "description"}
    changed = [dict(PRODUCTS[0], title="Trail Running Shoes Waterproof"), *PRODUCTS[2:], {"id": "f", "title": "Espresso Cup"}]
    incremental = LexicalIndex.build(changed, previous)
    full = LexicalIndex.build(changed)
    for query in [*QUERIES, "waterproof", "espresso cup"]:
        assert np.allclose(incremental.scores(query), full.scores(query), rtol=1e-5, atol=1e-6), query


def test_unchanged_products_keep_their_stored_terms_and_changed_ones_are_tokenized(tmp_path: Path) -> None:
    LexicalIndex.build(PRODUCTS).save(tmp_path)
    previous = PreviousTerms.load(PRODUCTS, tmp_path)
    # plant a term in the stored title terms of "d" (unchanged below) and of "a" (re-worded below): only a
    # reused row can carry it into the new index, so the scores say which rows were tokenized again
    title = previous.fields["title"]
    planted = FieldTerms([*title.vocabulary, "zebra"], title.ids.copy(), title.offsets)
    for row in (0, 3):
        planted.ids[planted.offsets[row]] = len(title.vocabulary)
    stale = PreviousTerms(PRODUCTS, {**previous.fields, "title": planted})
    changed = [dict(PRODUCTS[0], title="Trail Running Shoes Waterproof"), *PRODUCTS[1:]]
    scores = LexicalIndex.build(changed, stale).scores("zebra")
    assert scores[3] > 0  # unchanged: its stored terms were reused
    assert scores[0] == 0 and np.count_nonzero(scores) == 1  # re-worded: tokenized afresh


def test_terms_of_removed_products_leave_the_vocabulary(tmp_path: Path) -> None:
    LexicalIndex.build(PRODUCTS).save(tmp_path)
    previous = PreviousTerms.load(PRODUCTS, tmp_path)
    kept = LexicalIndex.build(PRODUCTS[:2], previous)
    kept.save(tmp_path / "next")
    vocabulary = FieldTerms.load(tmp_path / "next" / "title")
    assert vocabulary is not None and "mug" not in vocabulary.vocabulary and "trail" in vocabulary.vocabulary
    assert vocabulary.rows == 2
