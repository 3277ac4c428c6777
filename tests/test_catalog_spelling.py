"""Query typos are corrected toward the catalog's own words, and real words and codes are left alone."""

from __future__ import annotations

import pytest

from catalog_index.spelling import SpellingCorrector, within_one_edit

TITLES = [
    "Stainless Steel Refrigerator with Ice Maker",
    "Wireless Noise Cancelling Headphones WH-1000XM4",
    "Keurig K-Mini Coffee Maker",
    "Gilt Picture Frame",
    "Leather Briefcase for Men",
    "Leather Briefcase, Brown",
]


@pytest.fixture(scope="module")
def speller() -> SpellingCorrector:
    return SpellingCorrector(TITLES, known_words={"gift", "for", "with"})


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("refridgerator", "refrigerator"),  # extra letter
        ("headphnes", "headphones"),  # missing letter
        ("keruig coffe maker", "keurig coffee maker"),  # swapped letters, missing letter
        ("briefcasr", "briefcase"),  # wrong letter
        ("Wireles headphones", "wireless headphones"),
    ],
)
def test_typos_become_catalog_words(speller: SpellingCorrector, typed: str, meant: str) -> None:
    assert speller.correct(typed).lower() == meant


@pytest.mark.parametrize("typed", ["gift for him", "wh-1000xm3", "xl tee", "gilt frame", "briefcase 2024", "zzzzzzzz"])
def test_real_words_codes_short_words_and_hopeless_words_stay(speller: SpellingCorrector, typed: str) -> None:
    assert speller.correct(typed) == typed


def test_most_frequent_candidate_wins() -> None:
    speller = SpellingCorrector(["red cart", "blue cart", "green cart", "card game"])
    assert speller.suggestion("carx") == "cart"


def test_within_one_edit() -> None:
    assert within_one_edit("coffe", "coffee") and within_one_edit("keruig", "keurig") and within_one_edit("cat", "cut")
    assert not within_one_edit("coffee", "coffee") and not within_one_edit("cafe", "coffee") and not within_one_edit("ab", "ba c")


def test_split_catalog_words_are_joined_when_the_catalog_writes_them_joined() -> None:
    speller = SpellingCorrector(
        ["The Elder Scrolls V: Skyrim", "Backpack, Blue", "Backpack, Red", "Back Pack Straps", "Tool Box", "Tool Box, Steel", "Toolbox"]
    )
    assert speller.correct("sky rim") == "skyrim"  # never written apart
    assert speller.correct("blue back  pack") == "blue backpack"  # joined twice, apart once
    assert speller.correct("tool box") == "tool box"  # apart more often than joined: kept as typed
    assert speller.correct("ice cream") == "ice cream"  # no catalog word "icecream"


def test_pairs_across_titles_are_not_counted_as_written_apart() -> None:
    speller = SpellingCorrector(["Red Back", "Pack of Cards", "Backpack"])  # "back" ends one title, "pack" starts the next
    assert speller.written_apart("back", "pack") == 0 and speller.written_apart("pack", "of") == 1
    assert speller.correct("back pack") == "backpack"


def test_run_together_words_are_split_when_the_catalog_writes_them_apart() -> None:
    speller = SpellingCorrector(["Call of Duty: Black Ops", "Black Ops II", "Dead Island", "Toolbox", "Tool Kit"], known_words={"island"})
    assert speller.correct("blackops 2") == "black ops 2"
    assert speller.correct("deadisland") == "dead island"
    assert speller.correct("toolbox") == "toolbox"  # a catalog word
    assert speller.correct("toolkits") == "toolkits"  # "tool kits" is never written: no evidence
