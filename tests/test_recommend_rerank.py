"""Personalized search ranking: reorders near-equal results only, keeps exact matches, leaves anonymous order alone."""

from __future__ import annotations

from typing import Any

from assistant.recommend.affinity import Affinities
from assistant.recommend.rerank import rerank
from catalog_index.hybrid import EXACT_TITLE_TIER
from catalog_index.search import Hit

LIKES_KITCHEN = Affinities(subcategory={"pans": 0.8, "mugs": 0.2}, category={"kitchen": 1.0}, brand={"Acme": 1.0})


def _hit(pid: str, score: float, category: str = "garden", subcategory: str = "tools", brand: str = "Other", **extra: Any) -> Hit:
    return Hit({"id": pid, "title": f"Product {pid}", "category": category, "subcategory": subcategory, "brand": brand, **extra}, score)


def _ids(hits: list[Hit]) -> list[str]:
    return [hit.product["id"] for hit in hits]


def test_near_ties_move_toward_the_shoppers_departments_and_brands() -> None:
    hits = [_hit("a", 0.90), _hit("b", 0.89), _hit("c", 0.88, "kitchen", "pans", "Acme"), _hit("d", 0.60, "kitchen", "pans", "Acme")]
    assert _ids(rerank(hits, LIKES_KITCHEN, "something")) == ["c", "a", "b", "d"]  # d is far less relevant: it stays


def test_anonymous_or_no_consent_keeps_the_search_order() -> None:
    hits = [_hit("a", 0.90), _hit("c", 0.89, "kitchen", "pans", "Acme")]
    assert _ids(rerank(hits, None, "something")) == ["a", "c"]
    assert _ids(rerank(hits, Affinities({}, {}, {}), "something")) == ["a", "c"]


def test_an_exact_match_ranked_first_is_never_demoted() -> None:
    by_tier = [_hit("x", EXACT_TITLE_TIER + 0.2), _hit("c", EXACT_TITLE_TIER + 0.19, "kitchen", "pans", "Acme")]
    assert _ids(rerank(by_tier, LIKES_KITCHEN, "anything")) == ["x", "c"]
    by_title = [_hit("x", 0.80), _hit("c", 0.80, "kitchen", "pans", "Acme")]
    assert _ids(rerank(by_title, LIKES_KITCHEN, "product X")) == ["x", "c"]
    by_sku = [_hit("x", 0.80, sku="AB-123"), _hit("c", 0.80, "kitchen", "pans", "Acme")]
    assert _ids(rerank(by_sku, LIKES_KITCHEN, "ab-123 please")) == ["x", "c"]
    # the same pair without the exact match does swap, so the three checks above can fail
    assert _ids(rerank(by_title, LIKES_KITCHEN, "a kitchen thing")) == ["c", "x"]


def test_nothing_is_pushed_out_of_the_page() -> None:
    hits = [_hit(str(n), 1.0 - n / 100, "kitchen" if n % 2 else "garden", "pans", "Acme") for n in range(10)]
    assert sorted(_ids(rerank(hits, LIKES_KITCHEN, "q"))) == sorted(_ids(hits))
