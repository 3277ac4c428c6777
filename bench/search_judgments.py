"""Write ``tests/data/search_judgments.jsonl``: graded search judgments derived from catalog attributes.

The labels must not come from the search system being measured, or the benchmark only
measures agreement with itself.  Here every query is generated together with a structured
*intent* (the subcategory wanted, the tags/colour/brand/price/size asked for), and each
product's grade follows from its own catalog attributes:

* 3 - in a wanted subcategory and meets every asked attribute (for a SKU query: that product);
* 2 - in a wanted subcategory and misses exactly one attribute;
* 1 - in a wanted subcategory otherwise, or in a related subcategory (for a SKU query:
  the same product in another colour);
* 0 - everything else (not written).

Query kinds: ``sku``, ``title`` (exact full title), ``model`` (brand + model name + product
type), ``attribute`` (colour / tag / price / size combinations), ``vague`` (hand-written
natural-language needs mapped to an intent below), ``misspelt`` (typos injected into
attribute and vague queries) and ``long`` (chatty sentences around an attribute intent).
Everything is seeded, so ``python -m bench.search_judgments`` rewrites the same file.
"""

from __future__ import annotations

import argparse
import json
import math
import random
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assistant.settings import PROJECT_ROOT

DEFAULT_CATALOG = PROJECT_ROOT / "var" / "demo" / "catalog.jsonl"
DEFAULT_OUT = PROJECT_ROOT / "tests" / "data" / "search_judgments.jsonl"
SEED = 20261123
COUNTS = {"sku": 25, "title": 20, "model": 15, "attribute": 45, "misspelt": 20, "long": 20}


@dataclass
class Intent:
    """What a query asks for, in catalog terms."""

    subcategories: list[str]
    tags: list[str] = field(default_factory=list)  # each must be a tag or a title phrase
    any_tags: list[str] = field(default_factory=list)  # at least one of them
    color: str | None = None
    brand: str | None = None
    price_max: float | None = None
    size: str | None = None
    title_words: list[str] = field(default_factory=list)
    related: list[str] = field(default_factory=list)

    def checks(self, product: dict[str, Any]) -> list[bool]:
        """One boolean per asked attribute: does ``product`` have it?"""
        title = product["title"].lower()
        tags = {tag.lower() for tag in product.get("tags") or []}
        has = [tag in tags or tag in title for tag in self.tags]
        if self.any_tags:
            has.append(any(tag in tags or tag in title for tag in self.any_tags))
        if self.color:
            has.append((product.get("color") or "").lower() == self.color)
        if self.brand:
            has.append(product.get("brand") == self.brand)
        if self.price_max is not None:
            has.append(product.get("price") is not None and product["price"] <= self.price_max)
        if self.size:
            has.append(self.size in (product.get("sizes") or []))
        has.extend(word.lower() in title.split() for word in self.title_words)
        return has

    def grade(self, product: dict[str, Any]) -> int:
        if product.get("subcategory") in self.related:
            return 1
        if product.get("subcategory") not in self.subcategories:
            return 0
        checks = self.checks(product)
        missed = checks.count(False)
        return 3 if missed == 0 else 2 if missed == 1 and len(checks) >= 2 else 1


# Natural-language needs a keyword engine struggles with, each mapped to catalog terms.
VAGUE: list[tuple[str, Intent]] = [
    ("comfy couch for a small apartment", Intent(["sofas"], tags=["loveseat"])),
    ("gift for a 10 year old who likes science", Intent(["science kits"], tags=["ages 8+"], related=["building sets"])),
    ("something that keeps coffee hot all morning", Intent(["coffee makers"], tags=["thermal carafe"])),
    ("shoes for running on muddy mountain paths", Intent(["trail running shoes"], tags=["grip"], related=["running shoes"])),
    ("stay dry walking the dog in the rain", Intent(["rain jackets"], tags=["waterproof"])),
    ("a mouse that won't click loudly in meetings", Intent(["computer mice"], tags=["silent"])),
    ("headphones to block out a noisy flight", Intent(["headphones"], tags=["noise cancelling"])),
    ("chair that is kind to my back when working from home", Intent(["office chairs"], tags=["ergonomic"], related=["desks"])),
    ("warm bag to sleep in when winter camping", Intent(["sleeping bags"], tags=["0 degree"], related=["tents"])),
    ("shelter for a family camping trip", Intent(["tents"], any_tags=["6 person", "4 person"])),
    ("toy my dog can't destroy", Intent(["dog toys"], tags=["durable"])),
    ("food for my old dog", Intent(["dog food"], tags=["senior"])),
    ("what should I feed a new kitten", Intent(["cat food"], tags=["kitten"])),
    ("bed for an older dog with sore joints", Intent(["dog beds"], tags=["orthopedic"])),
    ("powerful charger for a laptop", Intent(["usb-c chargers"], any_tags=["65w", "100w", "140w"])),
    ("fun game for a big group of friends", Intent(["board games"], tags=["party"])),
    ("a game we play together as a team instead of against each other", Intent(["board games"], tags=["cooperative"])),
    ("keep drinks cold on a long hike", Intent(["water bottles"], tags=["insulated"])),
    ("sun protection that lasts while swimming", Intent(["sunscreen"], tags=["water-resistant"])),
    ("shampoo for greasy hair", Intent(["shampoo"], tags=["clarifying"])),
    ("toothpaste for teeth that hurt with cold drinks", Intent(["toothpaste"], tags=["sensitive"])),
    ("something to make smoothies in the morning", Intent(["blenders"])),
    ("make crispy fries without deep frying", Intent(["air fryers"])),
    ("bedside light that can charge my phone", Intent(["table lamps"], tags=["usb port"])),
    ("a desk I can work at standing up", Intent(["desks"], tags=["standing desk"])),
    ("big screen for movie nights in the living room", Intent(["tvs"], any_tags=["65 inch", "75 inch"])),
    ("watch that tracks my runs without my phone", Intent(["smartwatches"], any_tags=["gps", "lte"])),
    ("laptop for a student that lasts all day", Intent(["laptops"], tags=["long battery"])),
    ("stroller for bumpy country paths", Intent(["strollers"], tags=["all terrain"])),
    ("cook burgers in the backyard", Intent(["grills"], related=["grill tools"])),
    ("coffee that won't keep me up at night", Intent(["coffee"], tags=["decaf"], related=["coffee pods"])),
    ("cuddly stuffed animal for a toddler", Intent(["plush toys"])),
    ("rug I can clean when the kids spill juice", Intent(["area rugs"], tags=["washable"])),
    ("keep my feet warm around the house", Intent(["slippers"])),
    ("place to put all my books", Intent(["bookshelves"])),
    ("workout weights I can change for home", Intent(["dumbbells"], tags=["adjustable"])),
]

LONG_OPENERS = [
    "hi there, I'm looking for",
    "could you help me find",
    "my sister's birthday is next week and I want to get her",
    "I've been searching everywhere for",
    "we just moved and I need",
    "can you recommend",
]
LONG_CLOSERS = [
    "that will last a few years",
    "because my old one finally broke",
    "nothing too fancy, just good quality",
    "something with good reviews would be great",
    "and it needs to arrive soon if possible",
    "thanks so much for your help",
]


def _typo(word: str, rng: random.Random) -> str:
    """One deletion, swap or doubling inside a word of five or more letters."""
    if len(word) < 5 or not word.isalpha():
        return word
    at = rng.randrange(1, len(word) - 2)
    kind = rng.choice(("delete", "swap", "double"))
    if kind == "delete":
        return word[:at] + word[at + 1 :]
    if kind == "swap":
        return word[:at] + word[at + 1] + word[at] + word[at + 2 :]
    return word[:at] + word[at] + word[at:]


def _misspell(text: str, rng: random.Random) -> str:
    words = text.split()
    candidates = [i for i, word in enumerate(words) if len(word) >= 5 and word.isalpha()]
    for i in rng.sample(candidates, min(2, len(candidates))):
        words[i] = _typo(words[i], rng)
    return " ".join(words)


def _round_up_price(price: float) -> int:
    step = 10 if price < 100 else 50 if price < 500 else 100
    return int(math.ceil((price + 1) / step) * step)


def _noun(subcategory: str, rng: random.Random) -> str:
    """The product type as a shopper types it: sometimes singular."""
    if rng.random() >= 0.4 or not subcategory.endswith("s") or subcategory.endswith("ss"):
        return subcategory
    if subcategory.endswith(("ives", "lves")):  # knives, bookshelves
        return subcategory[:-3] + ("fe" if subcategory.endswith("ives") else "f")
    return subcategory[:-2] if subcategory.endswith(("ches", "shes", "sses", "xes")) else subcategory[:-1]


class Generator:
    """Queries and judgments over one catalog."""

    def __init__(self, products: Sequence[dict[str, Any]], seed: int = SEED) -> None:
        self.products = list(products)
        self.rng = random.Random(seed)
        self.by_subcategory: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for product in self.products:
            if product.get("subcategory"):
                self.by_subcategory[product["subcategory"]].append(product)

    def judge(self, intent: Intent) -> dict[str, int]:
        grades = {product["id"]: intent.grade(product) for product in self.products}
        return {product_id: grade for product_id, grade in grades.items() if grade}

    def sku_queries(self, count: int) -> list[dict[str, Any]]:
        out = []
        for product in self.rng.sample([p for p in self.products if p.get("sku")], count):
            query = product["sku"] if self.rng.random() < 0.5 else product["sku"].lower()
            judgments = {p["id"]: 1 for p in self.products if p["title"] == product["title"] and p["id"] != product["id"]}
            judgments[product["id"]] = 3
            out.append({"kind": "sku", "query": query, "judgments": judgments})
        return out

    def title_queries(self, count: int) -> list[dict[str, Any]]:
        out = []
        for product in self.rng.sample(self.products, count):
            judgments = {
                p["id"]: 1
                for p in self.products
                if p.get("brand") == product.get("brand") and p.get("subcategory") == product.get("subcategory")
            }
            judgments.update({p["id"]: 3 for p in self.products if p["title"] == product["title"]})
            out.append({"kind": "title", "query": product["title"], "judgments": judgments})
        return out

    def model_queries(self, count: int) -> list[dict[str, Any]]:
        out = []
        branded = [p for p in self.products if p.get("brand") and p["title"].startswith(p["brand"] + " ")]
        for product in self.rng.sample(branded, count):
            model = product["title"][len(product["brand"]) + 1 :].split()[0]
            intent = Intent([product["subcategory"]], brand=product["brand"], title_words=[model])
            query = f"{product['brand']} {model} {_noun(product['subcategory'], self.rng)}"
            out.append({"kind": "model", "query": query.lower() if self.rng.random() < 0.5 else query, "judgments": self.judge(intent)})
        return out

    def _attribute_intent(self) -> tuple[Intent, list[str]]:
        """An intent built from a real product's attributes, and the query phrases naming them."""
        subcategory = self.rng.choice(sorted(self.by_subcategory))
        product = self.rng.choice(self.by_subcategory[subcategory])
        pattern = self.rng.choice(("color", "tag", "price", "tag+color", "tag+price", "color+price", "size", "tag+size"))
        common = set.intersection(*(set(p["tags"]) for p in self.by_subcategory[subcategory]))
        tags = [tag for tag in product.get("tags") or [] if tag not in common]
        intent = Intent([subcategory])
        before: list[str] = []
        after: list[str] = []
        if "tag" in pattern and tags:
            intent.tags = [self.rng.choice(tags)]
            before.append(intent.tags[0])
        if "color" in pattern and product.get("color"):
            intent.color = product["color"]
            before.insert(0, product["color"])
        if "price" in pattern and product.get("price") is not None:
            intent.price_max = _round_up_price(product["price"])
            after.append(f"under ${intent.price_max}")
        if "size" in pattern and product.get("sizes"):
            intent.size = self.rng.choice(product["sizes"])
            after.append(f"size {intent.size}")
        return intent, [*before, _noun(subcategory, self.rng), *after]

    def attribute_queries(self, count: int) -> list[dict[str, Any]]:
        out = []
        while len(out) < count:
            intent, phrases = self._attribute_intent()
            if len(phrases) > 1:
                out.append({"kind": "attribute", "query": " ".join(phrases), "judgments": self.judge(intent)})
        return out

    def vague_queries(self) -> list[dict[str, Any]]:
        return [{"kind": "vague", "query": text, "judgments": self.judge(intent)} for text, intent in VAGUE]

    def misspelt_queries(self, sources: Sequence[dict[str, Any]], count: int) -> list[dict[str, Any]]:
        out = []
        for source in self.rng.sample(list(sources), len(sources)):
            text = _misspell(source["query"], self.rng)
            if text != source["query"]:
                out.append({"kind": "misspelt", "query": text, "judgments": source["judgments"], "source": source["query"]})
            if len(out) == count:
                break
        return out

    def long_queries(self, count: int) -> list[dict[str, Any]]:
        out = []
        while len(out) < count:
            intent, phrases = self._attribute_intent()
            opener, closer = self.rng.choice(LONG_OPENERS), self.rng.choice(LONG_CLOSERS)
            article = "some" if any(phrase.endswith("s") and phrase in self.by_subcategory for phrase in phrases) else "a"
            query = f"{opener} {article} {' '.join(phrases)}, {closer}"
            out.append({"kind": "long", "query": query, "judgments": self.judge(intent)})
        return out

    def all_queries(self) -> list[dict[str, Any]]:
        attribute = self.attribute_queries(COUNTS["attribute"])
        vague = self.vague_queries()
        queries = [
            *self.sku_queries(COUNTS["sku"]),
            *self.title_queries(COUNTS["title"]),
            *self.model_queries(COUNTS["model"]),
            *attribute,
            *vague,
            *self.misspelt_queries([*attribute, *vague], COUNTS["misspelt"]),
            *self.long_queries(COUNTS["long"]),
        ]
        numbered: dict[str, int] = defaultdict(int)
        for query in queries:
            numbered[query["kind"]] += 1
            query["id"] = f"{query['kind']}-{numbered[query['kind']]:03d}"
            # alternate within each kind, so both halves cover every kind equally
            query["split"] = "tune" if numbered[query["kind"]] % 2 else "test"
        return [
            {key: query[key] for key in ("id", "kind", "split", "query", *(["source"] if "source" in query else []), "judgments")}
            for query in queries
        ]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--catalog", type=Path, default=DEFAULT_CATALOG)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    products = [json.loads(line) for line in args.catalog.read_text().splitlines() if line.strip()]
    queries = Generator(products).all_queries()
    args.out.write_text("".join(json.dumps(query) + "\n" for query in queries))
    kinds: dict[str, int] = defaultdict(int)
    for query in queries:
        kinds[query["kind"]] += 1
    print(f"wrote {len(queries)} queries to {args.out}: {dict(kinds)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
