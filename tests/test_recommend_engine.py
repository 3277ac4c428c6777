"""The recommendation engine on a generated store: reasons, business rules, gifts, stages.

No database and no embedding model: the catalog has seeded random unit vectors and the
history is generated here, so each rule is checked against data whose truth we know.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest

from assistant.recommend import Request, popular, recommend_for_profile
from assistant.recommend.base import Context
from assistant.recommend.blend import Policy, discovery, source_lists
from assistant.recommend.catalog import Catalog
from assistant.recommend.model import Model, train
from assistant.recommend.profile import Profile
from assistant.store.repositories.history import Interest, OrderLine

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
DEPARTMENTS = ("garden", "kitchen", "toys", "grocery", "men's clothing")


def _catalog() -> Catalog:
    products: list[dict[str, Any]] = []
    for d, department in enumerate(DEPARTMENTS):
        for n in range(12):
            products.append({
                "id": f"P{d}{n:02d}", "title": f"{department.title()} item {n}", "category": department,
                "subcategory": f"{department} {n % 3}", "brand": f"Brand{n % 4}", "price": 5.0 + 10 * n,
                "stock": {"all": 0 if n == 11 else 5}, "tags": [],
            })
    vectors = np.random.default_rng(3).normal(size=(len(products), 16)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return Catalog(products, vectors)


def _history(catalog: Catalog) -> list[OrderLine]:
    """80 shoppers: grocery staples every ~30 days, and bundles (garden 0 with garden 1) in discretionary orders."""
    rng = random.Random(5)
    lines: list[OrderLine] = []
    order = 0
    for c in range(80):
        customer = f"c{c}"
        staple = f"P3{rng.randrange(4):02d}"
        moment = NOW - timedelta(days=300)
        while moment < NOW - timedelta(days=5):
            order += 1
            lines.append(OrderLine(customer, order, staple, moment))
            moment += timedelta(days=rng.uniform(27, 33))
        for _ in range(4):
            order += 1
            when = NOW - timedelta(days=rng.uniform(1, 300))
            department = rng.choice((0, 1, 2, 4))
            first = rng.randrange(10)
            lines.append(OrderLine(customer, order, f"P{department}{first:02d}", when))
            lines.append(OrderLine(customer, order, f"P{department}{(first + 1) % 10:02d}", when))
    return lines


@pytest.fixture(scope="module")
def store() -> tuple[Catalog, Model]:
    catalog = _catalog()
    return catalog, train(_history(catalog), catalog, NOW)


def _shopper(lines: list[tuple[str, int]], views: tuple[str, ...] = ()) -> Profile:
    """A consenting shopper who bought ``(product, days ago)``, one order each."""
    oldest_first = sorted(lines, key=lambda x: -x[1])
    bought = [OrderLine("me", 10_000 + n, pid, NOW - timedelta(days=ago)) for n, (pid, ago) in enumerate(oldest_first)]
    interests = [Interest(pid, "view", NOW - timedelta(hours=n + 1)) for n, pid in enumerate(views)]
    return Profile(NOW, "me", bought, interests, personalized=True)


def _ids(items: list[Any]) -> list[str]:
    return [item.product["id"] for item in items]


def test_the_store_has_learned_consumables_and_collaborative_factors(store: tuple[Catalog, Model]) -> None:
    catalog, model = store
    assert model.is_consumable(catalog.row_of["P300"]) and 25 < model.cycle_days[catalog.row_of["P300"]] < 35
    assert not model.is_consumable(catalog.row_of["P000"])
    assert model.item_factors is not None and model.item_factors.shape[0] == len(catalog)


def test_reasons_name_only_what_the_shopper_really_has(store: tuple[Catalog, Model]) -> None:
    catalog, model = store
    profile = _shopper([("P000", 40), ("P101", 20), ("P300", 90), ("P300", 60), ("P300", 31)], views=("P205",))
    personal = Policy(discovery={"co_purchase": 1.0, "content": 1.0, "als": 1.0, "affinity": 1.0})  # whatever the tuned weights
    items = recommend_for_profile(model, catalog, profile, Request(k=10), personal)
    assert len(items) == 10
    theirs = {catalog.title(pid) for pid in ("P000", "P101", "P300", "P205")}
    others = {p["title"] for p in catalog.products} - theirs
    for item in items:
        named = {title for title in theirs | others if f"the {title}" in item.reason}
        if item.source in ("again", "co_purchase", "content", "als"):
            assert named and named <= theirs, item
        else:
            assert not named & others, item
    assert any(item.source in ("co_purchase", "content", "als") for item in items)


def test_buy_again_is_the_backbone_and_restock_timing_reorders_it(store: tuple[Catalog, Model]) -> None:
    catalog, model = store
    due = _shopper([("P000", 10), ("P300", 95), ("P300", 65), ("P300", 33)])
    fresh = _shopper([("P000", 10), ("P300", 62), ("P300", 32), ("P300", 2)])
    due_items = recommend_for_profile(model, catalog, due, Request(k=10))
    assert due_items[0].product["id"] == "P300" and due_items[0].source == "again"
    assert due_items[0].reason == f"Time to restock the {catalog.title('P300')}? You buy it about every 31 days"  # gaps 30 and 32
    fresh_items = recommend_for_profile(model, catalog, fresh, Request(k=10))
    staple = [item for item in fresh_items if item.product["id"] == "P300"]
    assert staple and staple[0].reason == f"You've bought the {catalog.title('P300')} 3 times"  # still listed, just not "time to"
    assert fresh_items.index(staple[0]) >= _ids(due_items).index("P300")
    assert "P000" not in _ids(due_items) + _ids(fresh_items)  # bought once, and nobody buys it twice


def test_a_shopper_with_strong_habits_sees_staples_first_and_new_products_after(store: tuple[Catalog, Model]) -> None:
    catalog, model = store
    habits = _shopper([(pid, ago) for ago in (100, 70, 40, 10) for pid in ("P300", "P301")])
    items = recommend_for_profile(model, catalog, habits, Request(k=10))
    assert [item.source for item in items[:2]] == ["again", "again"]
    assert {item.source for item in items[2:]} - {"again"}, "discovery fills the rest of the list"
    assert all(item.product["id"] not in ("P300", "P301") for item in items[2:])


def test_a_product_without_stock_data_may_be_recommended_but_a_sold_out_one_not(store: tuple[Catalog, Model]) -> None:
    catalog, model = store
    bare = [{key: value for key, value in product.items() if key != "stock"} for product in catalog.products]
    bare[catalog.row_of["P100"]]["stock"] = {"all": 0}
    items = recommend_for_profile(model, Catalog(bare, catalog.vectors), Profile(NOW), Request(k=len(bare)))
    ids = _ids(items)
    assert "P100" not in ids
    assert len(ids) == int((model.popularity > 0).sum()) - 1  # every other product anyone bought, none with stock data


def test_budget_stock_duplicates_and_diversity(store: tuple[Catalog, Model]) -> None:
    catalog, model = store
    profile = _shopper([("P000", 30), ("P001", 20), ("P002", 10)], views=("P003", "P004"))
    items = recommend_for_profile(model, catalog, profile, Request(k=10, max_price=50.0))
    ids = _ids(items)
    assert len(ids) == len(set(ids)) == 10
    assert all(item.product["price"] <= 50.0 and sum(item.product["stock"].values()) > 0 for item in items)
    categories = [item.product["category"] for item in items]
    assert max(categories.count(c) for c in set(categories)) <= 4


def test_a_gift_skips_consumables_and_leans_to_the_recipient(store: tuple[Catalog, Model]) -> None:
    catalog, model = store
    profile = _shopper([("P300", 95), ("P300", 65), ("P300", 33)])
    items = recommend_for_profile(model, catalog, profile, Request(k=5, max_price=60.0, gift=True, recipient="dad"))
    assert len(items) == 5
    assert all(not model.is_consumable(catalog.row_of[pid]) for pid in _ids(items))
    assert all(item.product["price"] <= 60.0 for item in items)
    assert items[0].product["category"] == "men's clothing"


def test_a_newcomer_gets_popular_and_trending_with_true_counts(store: tuple[Catalog, Model]) -> None:
    catalog, model = store
    items = recommend_for_profile(model, catalog, Profile(NOW), Request(k=6))
    assert len(items) == 6 and {item.source for item in items} <= {"popular", "trending"}
    for item in items:
        row = catalog.row_of[item.product["id"]]
        count = int(model.trending[row] if item.source == "trending" else model.buyers[row])
        assert f"{count} shopper" in item.reason


def test_without_history_the_cart_still_gives_context(store: tuple[Catalog, Model]) -> None:
    catalog, model = store
    items = recommend_for_profile(model, catalog, Profile(NOW, cart=["P005"]), Request(k=6))
    in_cart = [item for item in items if item.source in ("co_purchase", "content")]
    assert in_cart and "P005" not in _ids(items)
    assert all(item.reason.endswith(f"the {catalog.title('P005')} in your cart") for item in in_cart)


def test_what_is_in_the_cart_is_not_suggested_again(store: tuple[Catalog, Model]) -> None:
    catalog, model = store
    best_seller = recommend_for_profile(model, catalog, Profile(NOW), Request(k=1))[0].product["id"]
    assert best_seller not in _ids(recommend_for_profile(model, catalog, Profile(NOW, cart=[best_seller]), Request(k=10)))


def test_new_finds_count_only_shoppers_who_started_buying_after_their_first_order() -> None:
    catalog = _catalog()
    day = timedelta(days=1)
    lines = [
        OrderLine("a", 1, "P000", NOW - 40 * day), OrderLine("a", 1, "P001", NOW - 40 * day),  # both on a's first trip
        OrderLine("a", 2, "P002", NOW - 20 * day),  # new to a on a later trip
        OrderLine("b", 3, "P001", NOW - 30 * day), OrderLine("b", 4, "P002", NOW - 10 * day), OrderLine("b", 4, "P000", NOW - 10 * day),
    ]
    model = train(lines, catalog, NOW)
    counts = {pid: int(model.newcomers[catalog.row_of[pid]]) for pid in ("P000", "P001", "P002")}
    assert counts == {"P000": 1, "P001": 0, "P002": 2}
    assert model.adoption[catalog.row_of["P002"]] > model.adoption[catalog.row_of["P000"]] > 0  # b's P000 is as new as a's P002


def test_the_discovery_lift_keeps_the_backbone_order_until_a_personal_source_lifts_a_product(store: tuple[Catalog, Model]) -> None:
    catalog, model = store
    profile = _shopper([("P000", 40), ("P300", 90), ("P300", 60)])
    context = Context(model, catalog, profile)
    owned = {catalog.row_of["P000"], catalog.row_of["P300"]}
    lists = source_lists(context, ["new_finds", "co_purchase"])
    backbone = [c.row for c in lists["new_finds"] if c.row not in owned]
    plain = discovery(context, lists, Policy(backbone="new_finds", discovery={"co_purchase": 0.0}), owned)
    assert [c.row for c, _ in plain] == backbone and {source for _, source in plain} == {"new_finds"}
    lifted = discovery(context, lists, Policy(backbone="new_finds", discovery={"co_purchase": 4.0}), owned)
    partner = lists["co_purchase"][0]
    assert partner.row not in owned
    assert [c.row for c, _ in lifted].index(partner.row) <= [c.row for c, _ in plain].index(partner.row)
    for candidate, source in lifted:
        assert candidate.row not in owned
        expected = {c.row: c.reason for c in lists[source]}[candidate.row]
        assert candidate.reason == expected  # the reason of the list the product really came from


def test_a_store_without_new_finds_falls_back_to_popularity(store: tuple[Catalog, Model]) -> None:
    catalog, model = store
    context = Context(model, catalog, Profile(NOW))
    lists = {"new_finds": [], "popular": popular.popular(context, 5)}
    ranked = discovery(context, lists, Policy(backbone="new_finds", discovery={}), set())
    assert [c.row for c, _ in ranked] == [c.row for c in lists["popular"]] and {s for _, s in ranked} == {"popular"}


def test_a_store_whose_only_buyer_owns_every_sold_product_still_gets_a_full_list() -> None:
    catalog = _catalog()
    lines = [OrderLine("me", n, pid, NOW - timedelta(days=40 - 10 * n)) for n, pid in enumerate(("P000", "P001", "P000"))]
    model = train(lines, catalog, NOW)
    items = recommend_for_profile(model, catalog, Profile(NOW, "me", lines, personalized=True), Request(k=5))
    assert len(items) == 5 and items[0].product["id"] == "P000" and items[0].source == "again"
    assert {item.source for item in items[1:]} == {"content"} and "P001" not in _ids(items)
