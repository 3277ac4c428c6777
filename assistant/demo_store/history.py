"""Customers, their orders and their browsing, with the structure real shop data has.

Each customer gets category and brand affinities (Dirichlet draws, so most shoppers care
about a few categories and brands), a handful of staple consumables bought again on
their own cycle, and baskets in which bundle partners (tent and sleeping bag, printer and
ink) turn up together far more often than chance.  Each order's status, shipment and
refund follow its age relative to a fixed reference time (:mod:`assistant.demo_store.fulfilment`).
Nothing reads the clock, so the same seed gives the same history.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from assistant.demo_store.catalog import store_price
from assistant.demo_store.fulfilment import fulfil, iso
from assistant.demo_store.taxonomy import BUNDLES, SUBCATEGORIES
from assistant.demo_store.vocab import (
    CITIES,
    FIRST_NAMES,
    LAST_NAMES,
    LOYALTY_TIERS,
    PAYMENT_METHODS,
    PAYMENT_WEIGHTS,
)

REFERENCE_NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
HISTORY_DAYS = 730
EVENT_TYPES = ("view", "search", "add_to_cart", "remove_from_cart")
CUSTOMER_COUNT = 600
NEWCOMER_SHARE = 0.04
MAX_LINES = 5
# Share of shoppers with an order in the last RECENT_DAYS, so many customers have one in flight.
RECENT_SHOPPER_SHARE = 0.15
RECENT_DAYS = 10
ORDER_NUMBER_START = 104_000

# Shoppers buy in the evening more than at dawn (UTC hours, weights).
HOUR_WEIGHTS = (1, 1, 1, 1, 1, 1, 2, 3, 4, 5, 5, 5, 6, 6, 5, 5, 5, 6, 7, 8, 8, 7, 5, 3)


@dataclass
class SimulatedShopper:
    """A customer as the generator sees them: the record plus the tastes behind it."""

    id: str
    name: str
    email: str
    created_at: datetime
    city: str
    marketing_consent: bool
    category_weights: list[float]
    brand_weights: dict[str, float]
    orders: list[dict[str, Any]] = field(default_factory=list)
    events: list[tuple[datetime, int, dict[str, Any]]] = field(default_factory=list)


@dataclass(frozen=True)
class History:
    customers: list[dict[str, Any]]
    orders: list[dict[str, Any]]
    events: list[dict[str, Any]]


def _dirichlet(rng: random.Random, alpha: float, size: int) -> list[float]:
    draws = [rng.gammavariate(alpha, 1.0) for _ in range(size)]
    total = sum(draws) or 1.0
    return [draw / total for draw in draws]


class _Shelves:
    """The catalog arranged for sampling: products by subcategory, popularity weights."""

    def __init__(self, catalog: Sequence[dict[str, Any]]) -> None:
        sellable = [product for product in catalog if "test-listing" not in product["tags"]]
        self.by_subcategory: dict[str, list[dict[str, Any]]] = {sub.name: [] for sub in SUBCATEGORIES}
        for product in sellable:
            self.by_subcategory[product["subcategory"]].append(product)
        self.popularity = {
            product["id"]: (product["review_count"] + 20) * (product["rating"] / 5) ** 2 for product in sellable
        }
        self.categories = list(dict.fromkeys(sub.category for sub in SUBCATEGORIES))
        self.subcategories = {cat: [sub for sub in SUBCATEGORIES if sub.category == cat] for cat in self.categories}
        self.brands = sorted({product["brand"] for product in sellable})
        self.consumables = [sub for sub in SUBCATEGORIES if sub.repurchase_days]
        self.partners: dict[str, list[str]] = {}
        for first, second in BUNDLES:
            self.partners.setdefault(first, []).append(second)
            self.partners.setdefault(second, []).append(first)

    def pick_in(self, rng: random.Random, shopper: SimulatedShopper, subcategory: str) -> dict[str, Any]:
        """A product of ``subcategory``, favouring the shopper's brands and popular items."""
        products = self.by_subcategory[subcategory]
        weights = [shopper.brand_weights[p["brand"]] * self.popularity[p["id"]] for p in products]
        return rng.choices(products, weights)[0]

    def pick(self, rng: random.Random, shopper: SimulatedShopper) -> dict[str, Any]:
        """A product from a category the shopper likes."""
        category = rng.choices(self.categories, shopper.category_weights)[0]
        subs = self.subcategories[category]
        sub = rng.choices(subs, [s.count for s in subs])[0]
        return self.pick_in(rng, shopper, sub.name)

    def pick_staple(self, rng: random.Random, shopper: SimulatedShopper) -> dict[str, Any]:
        weights = [shopper.category_weights[self.categories.index(sub.category)] + 0.02 for sub in self.consumables]
        sub = rng.choices(self.consumables, weights)[0]
        return self.pick_in(rng, shopper, sub.name)


def _make_shoppers(rng: random.Random, shelves: _Shelves, now: datetime) -> list[SimulatedShopper]:
    shoppers = []
    used_emails: dict[str, int] = {}
    for number in range(1, CUSTOMER_COUNT + 1):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        stem = f"{first}.{last}".lower()
        used_emails[stem] = used_emails.get(stem, 0) + 1
        suffix = "" if used_emails[stem] == 1 else str(used_emails[stem])
        newcomer = rng.random() < NEWCOMER_SHARE
        age_days = rng.uniform(2, 25) if newcomer else rng.uniform(25, HISTORY_DAYS + 30)
        shoppers.append(SimulatedShopper(
            id=f"C{number:04d}",
            name=f"{first} {last}",
            email=f"{stem}{suffix}@example.com",
            created_at=now - timedelta(days=age_days, seconds=rng.randrange(86_400)),
            city=rng.choice(CITIES),
            marketing_consent=rng.random() < 0.55,
            category_weights=_dirichlet(rng, 0.35, len(shelves.categories)),
            brand_weights={brand: rng.gammavariate(0.6, 1.0) + 0.02 for brand in shelves.brands},
        ))
    return shoppers


def _moment(rng: random.Random, start: datetime, end: datetime) -> datetime:
    """A time between ``start`` and ``end`` at an hour people shop."""
    day = start + (end - start) * rng.random()
    hour = rng.choices(range(24), HOUR_WEIGHTS)[0]
    moment = day.replace(hour=hour, minute=rng.randrange(60), second=rng.randrange(60), microsecond=0)
    return min(max(moment, start), end)


def _quantity(rng: random.Random, product: dict[str, Any]) -> int:
    if product["repurchase_days"]:
        return rng.choices((1, 2, 3), (70, 22, 8))[0]
    return 2 if rng.random() < 0.05 else 1


def _lines(rng: random.Random, products: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Order lines, one per distinct product, at the shelf price or an occasional sale price."""
    distinct = list({product["id"]: product for product in products}.values())[:MAX_LINES]
    lines = []
    for product in distinct:
        price = product["price"]
        if rng.random() < 0.08 and price > 5:
            price = store_price(price * rng.uniform(0.75, 0.9))
        lines.append({"product_id": product["id"], "quantity": _quantity(rng, product), "unit_price": price})
    return lines


def _discretionary_basket(rng: random.Random, shelves: _Shelves, shopper: SimulatedShopper) -> list[dict[str, Any]]:
    primary = shelves.pick(rng, shopper)
    basket = [primary]
    for partner in shelves.partners.get(primary["subcategory"], []):
        if rng.random() < 0.5:
            basket.append(shelves.pick_in(rng, shopper, partner))
    for _ in range(rng.choices((0, 1, 2, 3), (60, 25, 10, 5))[0]):
        basket.append(shelves.pick(rng, shopper))
    return basket


def _staple_trips(
    rng: random.Random, shelves: _Shelves, shopper: SimulatedShopper, now: datetime,
) -> list[tuple[datetime, list[dict[str, Any]]]]:
    """Repeat purchases of the shopper's staples, each on its own cycle, grouped when due together."""
    dues: list[tuple[datetime, dict[str, Any]]] = []
    span = now - shopper.created_at
    for _ in range(rng.choices((0, 1, 2, 3), (35, 35, 20, 10))[0]):
        staple = shelves.pick_staple(rng, shopper)
        cycle = staple["repurchase_days"] * rng.uniform(0.85, 1.2)
        due = shopper.created_at + span * rng.uniform(0.0, 0.5)
        while due < now:
            dues.append((due, staple))
            if rng.random() < 0.03:
                break
            due += timedelta(days=cycle * rng.uniform(0.85, 1.15))
    dues.sort(key=lambda pair: (pair[0], pair[1]["id"]))
    trips: list[tuple[datetime, list[dict[str, Any]]]] = []
    for due, staple in dues:
        if trips and due - trips[-1][0] < timedelta(days=5):
            trips[-1][1].append(staple)
        else:
            trips.append((due, [staple]))
    return trips


def _order(
    rng: random.Random, shopper: SimulatedShopper, placed: datetime, products: list[dict[str, Any]], now: datetime,
) -> dict[str, Any]:
    items = _lines(rng, products)
    order: dict[str, Any] = {
        "order_number": None,
        "customer_id": shopper.id,
        "email": shopper.email,
        "placed_at": iso(placed),
        "status": None,
        "items": items,
        "total": round(sum(line["unit_price"] * line["quantity"] for line in items), 2),
        "currency": "USD",
        "payment_method": rng.choices(PAYMENT_METHODS, PAYMENT_WEIGHTS)[0],
        "shipping_method": None,
        "shipping_city": shopper.city if rng.random() < 0.9 else rng.choice(CITIES),
        "shipment": None,
        "refund": None,
        "cancelled_at": None,
    }
    fulfil(rng, order, placed, now)
    return order


def _search_query(rng: random.Random, product: dict[str, Any]) -> str:
    noun: str = product["subcategory"]
    price = product["price"]
    bound = math.ceil(price / 50) * 50 if price > 50 else math.ceil(price / 10) * 10
    forms = [noun, f"{product['brand'].lower()} {noun}", f"{noun} under ${bound}"]
    if product["color"]:
        forms.append(f"{product['color']} {noun}")
    extra_tags = [tag for tag in product["tags"] if tag not in noun and tag != "consumable"]
    if extra_tags:
        forms.append(f"{rng.choice(extra_tags)} {noun}")
    return rng.choice(forms)


class _EventLog:
    """Collects one shopper's events in time order, never two identical ones."""

    def __init__(self, shopper: SimulatedShopper, now: datetime) -> None:
        self.shopper = shopper
        self.now = now
        self.seen: set[tuple[str, str | None, str | None, str]] = set()

    def add(self, moment: datetime, kind: str, product: dict[str, Any] | None = None, query: str | None = None) -> None:
        if not self.shopper.created_at <= moment <= self.now:
            return
        product_id: str | None = product["id"] if product else None
        at = iso(moment)
        record = {"customer_id": self.shopper.id, "type": kind, "product_id": product_id, "query": query, "at": at}
        key = (kind, product_id, query, at)
        if key in self.seen:
            return
        self.seen.add(key)
        self.shopper.events.append((moment, len(self.shopper.events), record))


def _browse(rng: random.Random, shelves: _Shelves, log: _EventLog, start: datetime, products: list[dict[str, Any]],
            buying: bool) -> None:
    """A browsing session: maybe a search, views of the products and their alternatives, the cart."""
    moment = start
    lead = products[0]
    if rng.random() < 0.55:
        log.add(moment, "search", query=_search_query(rng, lead))
    alternatives = [shelves.pick_in(rng, log.shopper, lead["subcategory"]) for _ in range(rng.randint(0, 3))]
    viewed = list({product["id"]: product for product in [*alternatives, *products]}.values())
    for product in viewed:
        moment += timedelta(seconds=rng.randint(20, 240))
        log.add(moment, "view", product)
    if buying:
        for product in products:
            moment += timedelta(seconds=rng.randint(10, 90))
            log.add(moment, "add_to_cart", product)
    elif rng.random() < 0.3:
        product = rng.choice(viewed)
        moment += timedelta(seconds=rng.randint(10, 90))
        log.add(moment, "add_to_cart", product)
        if rng.random() < 0.6:
            log.add(moment + timedelta(minutes=rng.randint(1, 2_000)), "remove_from_cart", product)


def _live(rng: random.Random, shelves: _Shelves, shopper: SimulatedShopper, now: datetime) -> None:
    """Everything one shopper did over the history window."""
    log = _EventLog(shopper, now)
    start = shopper.created_at + timedelta(hours=1)
    span_days = (now - start).total_seconds() / 86_400
    newcomer = span_days < 25
    scale = 0.3 + 0.7 * min(span_days / HISTORY_DAYS, 1.0)
    count = rng.choice((0, 0, 1)) if newcomer else max(1, round(rng.lognormvariate(1.55, 0.75) * scale))

    recent = not newcomer and rng.random() < RECENT_SHOPPER_SHARE
    for index in range(count):
        window_start = max(start, now - timedelta(days=RECENT_DAYS)) if recent and index == 0 else start
        placed = _moment(rng, window_start, now - timedelta(minutes=10))
        basket = _discretionary_basket(rng, shelves, shopper)
        shopper.orders.append(_order(rng, shopper, placed, basket, now))
        _browse(rng, shelves, log, placed - timedelta(minutes=rng.randint(15, 90)), basket, buying=True)

    for due, staples in _staple_trips(rng, shelves, shopper, now):
        placed = _moment(rng, max(start, due - timedelta(days=1)), min(now - timedelta(minutes=10), due + timedelta(days=1)))
        basket = list(staples)
        if rng.random() < 0.25:
            basket.append(shelves.pick(rng, shopper))
        shopper.orders.append(_order(rng, shopper, placed, basket, now))
        if rng.random() < 0.3:
            for offset, product in enumerate(basket):
                log.add(placed - timedelta(minutes=5, seconds=30 * offset), "add_to_cart", product)

    sessions = rng.randint(2, 4) if newcomer else rng.randint(1, 6) + (1 if rng.random() < 0.5 else 0)
    for session in range(sessions):
        recent = newcomer or session == 0
        window_start = max(start, now - timedelta(days=30)) if recent else start
        lead = shelves.pick(rng, shopper)
        _browse(rng, shelves, log, _moment(rng, window_start, now - timedelta(hours=2)), [lead], buying=False)


def _loyalty_tier(orders: list[dict[str, Any]]) -> str:
    spend = sum(order["total"] - (order["refund"] or {}).get("amount", 0.0)
                for order in orders if order["status"] != "cancelled")
    return [name for name, threshold in LOYALTY_TIERS if spend >= threshold][-1]


def build_history(rng: random.Random, catalog: Sequence[dict[str, Any]], now: datetime = REFERENCE_NOW) -> History:
    """Customers, orders (numbered in time order) and events for ``catalog`` up to ``now``."""
    shelves = _Shelves(catalog)
    shoppers = _make_shoppers(rng, shelves, now)
    for shopper in shoppers:
        _live(rng, shelves, shopper, now)

    everything = [order for shopper in shoppers for order in shopper.orders]
    everything.sort(key=lambda order: (order["placed_at"], order["customer_id"], order["items"][0]["product_id"]))
    number = ORDER_NUMBER_START
    for order in everything:
        number += rng.randint(1, 3)
        order["order_number"] = f"SA-{number:06d}"

    customers = [
        {"id": s.id, "name": s.name, "email": s.email, "created_at": iso(s.created_at), "city": s.city,
         "loyalty_tier": _loyalty_tier(s.orders), "marketing_consent": s.marketing_consent}
        for s in shoppers
    ]
    events = [record for s in shoppers for _, _, record in sorted(s.events, key=lambda e: (e[0], e[1]))]
    return History(customers=customers, orders=everything, events=events)
