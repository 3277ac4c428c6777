"""The generated demo store: sizes, structure, determinism, and agreement with the policy file."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
from collections import Counter, defaultdict
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from assistant.demo_store import REFERENCE_NOW, generate_demo_store
from assistant.demo_store.fulfilment import ORDER_STATUSES
from assistant.demo_store.vocab import PAYMENT_METHODS, SHIPPING_METHODS, STORES
from assistant.settings import PROJECT_ROOT

FILES = ("catalog.jsonl", "history/customers.jsonl", "history/orders.jsonl", "history/events.jsonl",
         "history/demo_manifest.json")
IN_FLIGHT = {"placed", "paid", "shipped", "out_for_delivery", "delayed", "returned"}


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines]


def digests(root: Path) -> dict[str, str]:
    return {name: hashlib.sha256((root / name).read_bytes()).hexdigest() for name in FILES}


def when(value: str) -> datetime:
    moment = datetime.fromisoformat(value)
    assert moment.tzinfo is not None, value
    return moment


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("demo42")
    report = generate_demo_store(root, seed=42)
    return {
        "root": root,
        "report": report,
        "catalog": read_jsonl(root / "catalog.jsonl"),
        "customers": read_jsonl(root / "history" / "customers.jsonl"),
        "orders": read_jsonl(root / "history" / "orders.jsonl"),
        "events": read_jsonl(root / "history" / "events.jsonl"),
        "manifest": json.loads((root / "history" / "demo_manifest.json").read_text()),
    }


@pytest.fixture(scope="module")
def products(store: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {product["id"]: product for product in store["catalog"]}


def test_catalog_size_and_fields(store: dict[str, Any]) -> None:
    catalog = store["catalog"]
    assert len(catalog) >= 3000
    assert len({product["category"] for product in catalog}) >= 12
    assert len({product["id"] for product in catalog}) == len(catalog)
    assert len({product["sku"] for product in catalog}) == len(catalog)
    for product in catalog:
        assert re.fullmatch(r"P\d{5}", product["id"])
        assert product["title"] and product["brand"] and product["category"] and product["subcategory"]
        assert product["description"].count(". ") >= 1, product["description"]
        assert product["price"] > 0 and f"{product['price']:.2f}".endswith(".99")
        assert product["currency"] == "USD"
        assert 1.0 <= product["rating"] <= 5.0 and round(product["rating"], 1) == product["rating"]
        assert product["review_count"] >= 0
        assert list(product["stock"]) == list(STORES)
        assert product["image_url"] == f"https://img.shop-assistant.example/{product['id']}.jpg"
        assert product["color"] is None or product["color"] == product["color"].lower()
    assert any(product["stock"]["downtown"] == 0 for product in catalog)
    assert any(all(quantity > 0 for quantity in product["stock"].values()) for product in catalog)
    brands_per_category = defaultdict(set)
    for product in catalog:
        brands_per_category[product["category"]].add(product["brand"])
    assert all(len(brands) >= 5 for brands in brands_per_category.values())


def test_subcategories_the_conversations_rely_on(store: dict[str, Any]) -> None:
    catalog = store["catalog"]
    by_sub = defaultdict(list)
    for product in catalog:
        by_sub[product["subcategory"]].append(product)
    boots = by_sub["hiking boots"]
    assert all(product["category"] == "shoes" and product["sizes"] for product in boots)
    black_waterproof_cheap = [p for p in boots if p["color"] == "black" and p["price"] < 150 and "waterproof" in p["tags"]]
    assert len(black_waterproof_cheap) >= 6
    assert all("Waterproof" in p["title"] and "waterproof" in p["description"] for p in black_waterproof_cheap)
    assert any(p["price"] > 150 for p in boots) and len({p["color"] for p in boots}) >= 4
    for name in ("running shoes", "usb-c chargers", "sofas", "office chairs", "salon chairs", "dressers", "science kits"):
        assert len(by_sub[name]) >= 20, name
    assert any("65W USB-C" in p["title"] for p in by_sub["usb-c chargers"])
    assert any("3-Drawer Dresser" in p["title"] and "3 drawer" in p["tags"] for p in by_sub["dressers"])
    assert {p["category"] for p in by_sub["science kits"]} == {"toys"}
    assert all(p["color"] is None for p in catalog if p["category"] == "grocery" or p["subcategory"] == "novels")


def test_consumables_are_tagged_with_a_cycle(store: dict[str, Any]) -> None:
    consumables = [p for p in store["catalog"] if "consumable" in p["tags"]]
    assert {"coffee", "dog food", "shampoo", "diapers", "vitamins", "printer ink"} <= {p["subcategory"] for p in consumables}
    assert all(isinstance(p["repurchase_days"], int) and p["repurchase_days"] > 0 for p in consumables)
    assert all(p["repurchase_days"] is None for p in store["catalog"] if "consumable" not in p["tags"])


def test_xss_canary_listing(store: dict[str, Any]) -> None:
    canaries = [p for p in store["catalog"] if p["title"] == "<img src=x onerror=alert(1)> Test Listing"]
    assert len(canaries) == 1 and "test-listing" in canaries[0]["tags"]
    assert not any(item["product_id"] == canaries[0]["id"] for order in store["orders"] for item in order["items"])


def test_customers(store: dict[str, Any]) -> None:
    customers = store["customers"]
    assert len(customers) >= 500
    assert len({c["email"] for c in customers}) == len(customers)
    for customer in customers:
        assert re.fullmatch(r"C\d{4}", customer["id"])
        first, last = customer["name"].lower().split(" ", 1)
        assert re.fullmatch(rf"{re.escape(first)}\.{re.escape(last)}\d*@example\.com", customer["email"])
        assert when(customer["created_at"]) < REFERENCE_NOW
        assert customer["loyalty_tier"] in {"bronze", "silver", "gold", "platinum"}
        assert isinstance(customer["marketing_consent"], bool) and customer["city"]


def test_orders_are_consistent(store: dict[str, Any], products: dict[str, dict[str, Any]]) -> None:
    orders = store["orders"]
    customers = {c["id"]: c for c in store["customers"]}
    assert len(orders) >= 5000
    assert len({o["order_number"] for o in orders}) == len(orders)
    assert "SA-000001" not in {o["order_number"] for o in orders}
    first = min(when(o["placed_at"]) for o in orders)
    assert REFERENCE_NOW - timedelta(days=760) <= first <= REFERENCE_NOW - timedelta(days=600)
    for order in orders:
        assert re.fullmatch(r"SA-\d{6}", order["order_number"])
        assert 1 <= len(order["items"]) <= 5
        assert len({item["product_id"] for item in order["items"]}) == len(order["items"])
        assert all(item["product_id"] in products and item["quantity"] >= 1 and item["unit_price"] > 0
                   for item in order["items"])
        assert order["total"] == round(sum(i["unit_price"] * i["quantity"] for i in order["items"]), 2)
        customer = customers[order["customer_id"]]
        assert order["email"] == customer["email"]
        placed = when(order["placed_at"])
        assert when(customer["created_at"]) <= placed < REFERENCE_NOW
        assert order["currency"] == "USD" and order["payment_method"] in PAYMENT_METHODS and order["shipping_city"]


def test_every_status_with_its_details(store: dict[str, Any]) -> None:
    orders = store["orders"]
    statuses = Counter(order["status"] for order in orders)
    assert set(statuses) == set(ORDER_STATUSES)
    for order in orders:
        status, shipment, refund = order["status"], order["shipment"], order["refund"]
        age = REFERENCE_NOW - when(order["placed_at"])
        if status in IN_FLIGHT:
            assert age <= timedelta(days=21), order
        if status == "cancelled":
            assert shipment is None and when(order["cancelled_at"]) <= REFERENCE_NOW
            continue
        assert order["cancelled_at"] is None and shipment["carrier"]
        if status in ("placed", "paid"):
            assert shipment["status"] == "pending" and shipment["tracking_number"] is None
            continue
        assert shipment["tracking_number"] and when(shipment["shipped_at"]) >= when(order["placed_at"])
        if status in ("shipped", "out_for_delivery", "delayed"):
            assert shipment["delivered_at"] is None and when(shipment["estimated_delivery"]) > REFERENCE_NOW
        if status == "delayed":
            assert shipment["status"] == "delayed" and shipment["delay_reason"]
        if status in ("delivered", "returned", "refunded"):
            assert shipment["status"] == "delivered" and when(shipment["delivered_at"]) < REFERENCE_NOW
        if status == "returned":
            assert refund["status"] in ("requested", "approved") and refund["refunded_at"] is None
        if status == "refunded":
            assert refund["status"] == "refunded" and when(refund["refunded_at"]) < REFERENCE_NOW
        if refund:
            assert 0 < refund["amount"] <= order["total"]
        else:
            assert status not in ("returned", "refunded")


def test_events(store: dict[str, Any], products: dict[str, dict[str, Any]]) -> None:
    events = store["events"]
    created = {c["id"]: when(c["created_at"]) for c in store["customers"]}
    assert set(Counter(e["type"] for e in events)) == {"view", "search", "add_to_cart", "remove_from_cart"}
    last: dict[str, datetime] = {}
    for event in events:
        at = when(event["at"])
        assert created[event["customer_id"]] <= at <= REFERENCE_NOW
        assert at >= last.get(event["customer_id"], at)
        last[event["customer_id"]] = at
        if event["type"] == "search":
            assert event["query"] and event["product_id"] is None
        else:
            assert event["product_id"] in products and event["query"] is None


def test_consumables_are_repurchased(store: dict[str, Any], products: dict[str, dict[str, Any]]) -> None:
    bought = Counter(
        (order["customer_id"], item["product_id"])
        for order in store["orders"] for item in order["items"]
        if products[item["product_id"]]["repurchase_days"]
    )
    repeaters = {customer for (customer, _), times in bought.items() if times > 1}
    assert len(repeaters) >= 100


@pytest.mark.parametrize("first,second", [("tents", "sleeping bags"), ("printers", "printer ink"),
                                          ("coffee makers", "coffee"), ("smartphones", "phone cases")])
def test_bundles_are_bought_together(store: dict[str, Any], products: dict[str, dict[str, Any]],
                                     first: str, second: str) -> None:
    baskets = [{products[i["product_id"]]["subcategory"] for i in order["items"]} for order in store["orders"]]
    with_first = [basket for basket in baskets if first in basket]
    share_overall = sum(second in basket for basket in baskets) / len(baskets)
    share_with_first = sum(second in basket for basket in with_first) / len(with_first)
    assert share_with_first > 5 * share_overall


def test_manifest_records_seed_reference_and_counts(store: dict[str, Any]) -> None:
    manifest, root = store["manifest"], store["root"]
    assert manifest["seed"] == 42 and manifest["reference_date"] == REFERENCE_NOW.isoformat()
    assert manifest["counts"]["products"] == len(store["catalog"])
    assert manifest["counts"]["orders"] == len(store["orders"])
    assert manifest["counts"]["events"] == len(store["events"])
    assert sum(manifest["order_statuses"].values()) == len(store["orders"])
    for name, digest in manifest["files"].items():
        assert hashlib.sha256((root / name).read_bytes()).hexdigest() == digest
    assert store["report"].counts == manifest["counts"]


def test_same_seed_same_bytes_other_seed_other_store(store: dict[str, Any], tmp_path: Path) -> None:
    generate_demo_store(tmp_path / "again", seed=42)
    assert digests(tmp_path / "again") == digests(store["root"])
    generate_demo_store(tmp_path / "other", seed=7)
    other = digests(tmp_path / "other")
    assert all(other[name] != digest for name, digest in digests(store["root"]).items())


def test_policy_file_agrees_with_the_generated_store() -> None:
    policy = yaml.safe_load((PROJECT_ROOT / "store_policy.yml").read_text())
    assert [store["id"] for store in policy["stores"]] == list(STORES)
    option_ids = {option["id"] for option in policy["shipping"]["options"]}
    assert {method for method, _, _ in SHIPPING_METHODS} <= option_ids
    for method, fastest, slowest in SHIPPING_METHODS:
        option = next(o for o in policy["shipping"]["options"] if o["id"] == method)
        assert (option["days_min"], option["days_max"]) == (fastest, slowest)
    assert set(PAYMENT_METHODS) <= {method["id"] for method in policy["payment"]["methods"]}
    assert policy["shipping"]["free_shipping_threshold"] > 0 and policy["shipping"]["countries"]
    assert policy["returns"]["window_days"] > 0 and policy["returns"]["conditions"]
    assert all(problem["answer"] and problem["keywords"] for problem in policy["payment"]["problems"])
    assert policy["support"]["timezone"] and policy["support"]["hours"]


def test_module_entry_point(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "assistant.demo_store", "--data-dir", str(tmp_path), "--seed", "3"],
        capture_output=True, text=True, check=True, cwd=PROJECT_ROOT,
    )
    assert "seed 3" in result.stdout
    assert all((tmp_path / name).exists() for name in FILES)
