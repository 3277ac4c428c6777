"""Measures written any way meet in BM25: units.normalize_units and the lexical tokenizer that applies it."""

from __future__ import annotations

import pytest

from catalog_index.lexical import LexicalIndex, lexical_tokens
from catalog_index.units import normalize_units


@pytest.mark.parametrize(
    ("text", "token"),
    [
        ("3/4 in. pipe", "0.75in"),
        ('3/4" pipe', "0.75in"),
        ("0.75 inch pipe", "0.75in"),
        (".75 inches", "0.75in"),
        ("1-1/2 in. elbow", "1.5in"),
        ("1 1/2 inch elbow", "1.5in"),
        ("6' ladder", "6ft"),
        ("8 ft. ladder", "8ft"),
        ("16 GB memory card", "16gb"),
        ("SanDisk 16GB", "16gb"),
        ("1,000 watts", "1000w"),
        ("12-volt drill", "12v"),
        ("5 gal. bucket", "5gal"),
        ("10.5 oz can", "10.5oz"),
        ("2.5 cu. ft. fridge", "2.5cuft"),
        ("100 count", "100pk"),
    ],
)
def test_measures_become_one_canonical_token(text: str, token: str) -> None:
    assert token in normalize_units(text).split()


@pytest.mark.parametrize(
    "text", ["2 in 1 stroller", "3-in-1 printer", "80's music", "24/7 support", "size 10 m", "wh-1000xm4", "due 1/2/2015", "0/4"]
)
def test_non_measures_are_left_alone(text: str) -> None:
    assert normalize_units(text) == text


def test_query_and_title_spellings_share_terms() -> None:
    for query, title in (("3/4 in copper pipe", '3/4" Copper Pipe'), ("0.75 inch pipe", "3/4 in. pipe"), ("16 gb card", "16GB Card")):
        shared = set(lexical_tokens(query)) & set(lexical_tokens(title))
        assert any(term[0].isdigit() and term[-1].isalpha() for term in shared), (query, title, shared)


def test_bm25_finds_a_measure_written_another_way() -> None:
    products = [
        {"id": "a", "title": '3/4" x 10 ft. Copper Pipe'},
        {"id": "b", "title": "1/2 in. x 10 ft. Copper Pipe"},
        {"id": "c", "title": "Garden hose 50 ft."},
    ]
    scores = LexicalIndex.build(products).scores("0.75 inch copper pipe")
    assert scores.argmax() == 0 and scores[0] > scores[1] > scores[2]


@pytest.mark.parametrize(("query", "title"), [("1/2 copper pipe", "1/2 in. x 10 ft. Copper Pipe"), ("1 1/2 pvc", '1-1/2" PVC Elbow')])
def test_a_fraction_without_its_unit_meets_the_measure(query: str, title: str) -> None:
    number = next(term for term in lexical_tokens(query) if term[0].isdigit())
    assert number in lexical_tokens(title)
    assert lexical_tokens(query).count(number) == 1 and not {"1", "2", "5", "05"} & set(lexical_tokens(query))


def test_dimensions_written_together_meet_them_written_apart() -> None:
    assert {"2", "4"} <= set(lexical_tokens("2x4 stud")) & set(lexical_tokens("2 in. x 4 in. x 8 ft. Stud"))
    assert lexical_tokens("4x8x10") == ["4x8x10", "4", "8", "10"]
