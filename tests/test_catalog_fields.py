"""Field-aware BM25 and the ranking refinements built on it: title coverage, phrases, their weights."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np

from catalog_index.fusion import DEFAULT_FUSION, FusionConfig
from catalog_index.hybrid import EXACT_CODE_TIER, EXACT_TITLE_TIER
from catalog_index.lexical import FIELD_WEIGHTS, LexicalIndex, field_texts, lexical_tokens, title_coverage
from catalog_index.ranking import LOW_PRICE_BOOST, adjacent_pairs, phrase_share

PRODUCTS = [
    {"id": "title", "title": "Trail Running Shoes", "description": "Light and grippy."},
    {"id": "description", "title": "Hiking Socks", "description": "Made for trail running shoes and long days."},
    {"id": "attributes", "title": "Cushioned Insoles", "category": "running shoes", "tags": ["trail"]},
    {"id": "none", "title": "Coffee Mug", "description": "Ceramic."},
]


def test_title_outweighs_attributes_outweigh_description() -> None:
    assert FIELD_WEIGHTS["title"] > FIELD_WEIGHTS["attributes"] > FIELD_WEIGHTS["description"] > 0
    scores = LexicalIndex.build(PRODUCTS).scores("trail running shoes")
    assert scores[0] > scores[2] > scores[1] > scores[3] == 0


def test_a_long_description_does_not_dilute_a_title_match() -> None:
    rambling = {"id": "long", "title": "Trail Running Shoes", "description": " ".join(["comfortable"] * 300)}
    scores = LexicalIndex.build([PRODUCTS[0], rambling, *PRODUCTS[1:]]).scores("trail running shoes")
    assert np.isclose(scores[0], scores[1], rtol=0.05)


def test_weights_are_applied_per_field() -> None:
    index = LexicalIndex.build(PRODUCTS)
    index.weights = {"title": 0.0, "attributes": 0.0, "description": 1.0}
    scores = index.scores("trail running shoes")
    assert scores.argmax() == 1 and scores[0] == 0 and scores[2] == 0


def test_title_only_catalog_indexes_only_titles(tmp_path: Path) -> None:
    bare = [{"id": str(i), "title": title} for i, title in enumerate(["Red Kettle", "Blue Kettle", "Toaster"])]
    index = LexicalIndex.build(bare)
    assert index.fields == ["title"]
    index.save(tmp_path)
    loaded = LexicalIndex.load(tmp_path)
    assert loaded.fields == ["title"] and loaded.count == 3
    assert np.array_equal(loaded.scores("kettle"), index.scores("kettle"))


def test_field_texts_split_the_product() -> None:
    texts = field_texts({"id": "x", "title": "T", "brand": "Acme", "color": "red", "tags": ["a", ""], "description": "D"})
    assert texts == {"title": "T", "attributes": "Acme . red . a", "description": "D"}


def test_title_coverage_is_the_share_of_query_terms_in_the_title() -> None:
    index = LexicalIndex.build(PRODUCTS)
    coverage = title_coverage(index, "trail running shoes", np.arange(len(PRODUCTS)))
    assert coverage.tolist() == [1.0, 0.0, 0.0, 0.0]  # attribute and description words do not count
    assert title_coverage(index, "running mug", np.array([0, 3])).tolist() == [0.5, 0.5]
    assert title_coverage(index, "", np.array([0])).tolist() == [0.0]


def test_phrase_share_counts_query_pairs_standing_together_in_the_title() -> None:
    query = adjacent_pairs(lexical_tokens("sd memory card"))
    assert phrase_share(query, lexical_tokens("SanDisk SD Memory Card 16GB")) == 1.0
    assert phrase_share(query, lexical_tokens("Memory foam card table, SD slot")) == 0.0
    assert phrase_share(query, lexical_tokens("Memory Card Reader for SD")) == 0.5
    assert phrase_share(adjacent_pairs(lexical_tokens("card")), lexical_tokens("card")) == 0.0  # one word: no phrase


def test_refinements_apply_to_fused_methods_only() -> None:
    refined = FusionConfig("rrf", coverage_weight=0.4)
    assert refined.refined and replace(refined, method="blend").refined
    assert not replace(refined, method="lexical").refined and not replace(refined, method="dense").refined
    assert not FusionConfig("rrf").refined
    weights = DEFAULT_FUSION.coverage_weight + DEFAULT_FUSION.similarity_weight + DEFAULT_FUSION.phrase_weight
    assert 1.0 + weights + LOW_PRICE_BOOST < EXACT_TITLE_TIER < EXACT_CODE_TIER  # exact matches stay on top
