"""A new retailer's first day: a bare catalog export, an order history and a consents file, through the CLI.

The catalog has only ``id, title, category`` (no stock, no prices), as many shops export
it; the customers file carries personalization consent.  Every consenting customer must
get a full personalized list led by their own staples, nobody is told a product is in
stock, and a customer without consent gets exactly the anonymous list.  Run on SQLite and
PostgreSQL through ``shop-assistant catalog import``/``build-index``, ``history import``
and ``recommend --customers FILE --k 10 --json``.
"""

from __future__ import annotations

import csv
import json
import random
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from assistant import cli
from assistant.store.db import make_engine, make_session_factory
from assistant.store.models import Customer, utcnow
from tests.actions_harness import SECRETS
from tests.store_fixtures import postgres_url, store_url  # noqa: F401

AISLES = {"Dairy": ["Whole milk", "Greek yogurt", "Butter", "Cheddar", "Cream"],
          "Bakery": ["Rye bread", "Croissant", "Bagels", "Sourdough", "Muffins"],
          "Produce": ["Bananas", "Apples", "Tomatoes", "Onions", "Spinach"],
          "Pantry": ["Pasta", "Rice", "Olive oil", "Coffee beans", "Tea"],
          "Household": ["Dish soap", "Paper towels", "Trash bags", "Sponges", "Laundry pods"]}
CONSENT = {f"c{n:02d}": "yes" for n in range(1, 11)} | {"c11": "no", "c12": ""}
NOT_PERSONAL = ["c11", "c12", "walk-in"]


def _write(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def _export(folder: Path) -> tuple[Path, Path, Path, dict[str, set[str]]]:
    """The shop's three files, and each customer's staples (bought in every order)."""
    products = [(f"G{n:02d}", title, aisle) for n, (aisle, title) in
                enumerate(((a, t) for a, titles in AISLES.items() for t in titles), 1)]
    catalog = _write(folder / "catalog.csv", ["id", "title", "category"], [list(p) for p in products])
    rng = random.Random(4)
    ids = [pid for pid, _, _ in products]
    lines, staples = [], {}
    now = utcnow()
    for customer in CONSENT:
        staples[customer] = set(rng.sample(ids, 2))
        for number in range(5):
            basket = staples[customer] | set(rng.sample(ids, 3))
            at = (now - timedelta(days=10 + 9 * (4 - number))).isoformat()
            lines += [[f"{customer}-{number}", customer, pid, 1, at] for pid in sorted(basket)]
    orders = _write(folder / "orders.csv", ["order_id", "customer_id", "product_id", "quantity", "ordered_at"], lines)
    customers = _write(folder / "customers.csv", ["id", "name", "personalization_consent", "marketing_consent"],
                       [[cid, f"Customer {cid}", consent, "no"] for cid, consent in CONSENT.items()])
    return catalog, orders, customers, staples


def _consents(url: str) -> dict[str, bool | None]:
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as session:
            return {cid: consent for cid, consent in session.execute(select(Customer.id, Customer.personalization_consent))}
    finally:
        engine.dispose()


def test_a_bare_export_with_consents_gets_full_personal_lists(
    store_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch  # noqa: F811
) -> None:
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("SHOP_DATABASE_URL", store_url)
    data = ["--data-dir", str(tmp_path / "shop")]
    catalog, orders, customers, staples = _export(tmp_path)
    assert cli.main([*data, "catalog", "import", str(catalog)]) == 0
    assert cli.main([*data, "catalog", "build-index"]) == 0
    assert cli.main([*data, "history", "import", str(customers)]) == 0
    assert cli.main([*data, "history", "import", str(orders)]) == 0
    consents = _consents(store_url)
    assert consents == {**{cid: True for cid in CONSENT if CONSENT[cid] == "yes"}, "c11": False, "c12": None}
    capsys.readouterr()
    assert cli.main([*data, "history", "import", str(customers)]) == 0  # again: nothing changes
    assert "0 customers" in capsys.readouterr().out and _consents(store_url) == consents

    ids = tmp_path / "ask.txt"
    ids.write_text("\n".join([*CONSENT, "walk-in"]) + "\n")
    assert cli.main([*data, "recommend", "--customers", str(ids), "--k", "10", "--json"]) == 0
    answers = {line["customer"]: line for line in map(json.loads, capsys.readouterr().out.splitlines())}
    assert list(answers) == [*CONSENT, "walk-in"]
    anonymous = [item["id"] for item in answers["walk-in"]["items"]]
    assert len(anonymous) == 10
    for customer, answer in answers.items():
        items = answer["items"]
        assert len(items) == 10 and all(item["in_stock"] is None and item["reason"] for item in items)
        if customer in NOT_PERSONAL:
            assert not answer["personalized"] and [item["id"] for item in items] == anonymous
            continue
        assert answer["personalized"]
        again = [item for item in items if item["source"] == "again"]
        assert staples[customer] <= {item["id"] for item in again}, customer
        assert all(item["reason"].startswith(("You've bought the ", "Time to restock the ")) for item in again)
