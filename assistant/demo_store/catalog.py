"""Products of the demo store, assembled from the taxonomy with one seeded random source.

Each product is a brand, a line name, one option per attribute group and a noun; the
title, description, tags and price all follow from those choices, so a "waterproof" boot
says so in its title, its description and its tags, and costs a little more.  Products
are dictionaries in the normalized schema of docs/contracts.md, plus ``review_count`` and
``repurchase_days`` (days between purchases for consumables, ``None`` otherwise).
"""

from __future__ import annotations

import math
import random
from typing import Any

from assistant.demo_store.taxonomy import (
    CLOSERS,
    COLOR_SENTENCES,
    PALETTES,
    SIZE_RUNS,
    SUBCATEGORIES,
    TEST_LISTING,
    Subcategory,
)
from assistant.demo_store.vocab import (
    AUTHORS_FIRST,
    AUTHORS_LAST,
    BOOK_ADJECTIVES,
    BOOK_NOUNS,
    BRANDS,
    GENERIC_BRANDS,
    LINE_NAMES,
    STORES,
)

CURRENCY = "USD"
IMAGE_URL = "https://img.shop-assistant.example/{id}.jpg"
GENERIC_BRAND_WEIGHT = 0.35
TITLE_ATTEMPTS = 12


def store_price(value: float) -> float:
    """A shelf price ending in .99 (what a shopper expects to see), never below 0.99."""
    return round(max(math.floor(value) - 1, 0) + 0.99, 2)


def _code(text: str) -> str:
    letters = "".join(char for char in text.upper() if char.isalnum())
    return letters[:3]


def _in_sentence(noun: str) -> str:
    """A title-case noun as it reads mid-sentence: "Hiking Boot" -> "hiking boot", "4K TV" stays."""
    return " ".join(word if word.upper() == word else word.lower() for word in noun.split())


def _weighted_color(rng: random.Random, palette: tuple[str, ...]) -> str:
    weights = [3.0] + [1.0] * (len(palette) - 1)
    return rng.choices(palette, weights)[0]


def _size_run(rng: random.Random, kind: str) -> list[str]:
    """A contiguous run of sizes, as a product is usually stocked (e.g. US 7 to 12)."""
    run = SIZE_RUNS[kind]
    third = max(1, len(run) // 3)
    start = rng.randrange(0, third)
    end = rng.randrange(len(run) - third, len(run)) + 1
    return list(run[start:end])


def _sizes_sentence(kind: str, sizes: list[str]) -> str:
    if kind == "shoe":
        return f"Available in US sizes {sizes[0]} to {sizes[-1]}."
    if kind == "diaper":
        return f"Available from {sizes[0]} to {sizes[-1]}."
    if len(sizes) <= 3:
        return "Available in " + ", ".join(sizes[:-1]) + f" and {sizes[-1]}."
    return f"Available in sizes {sizes[0]} to {sizes[-1]}."


def _line_name(rng: random.Random, sub: Subcategory) -> str:
    if sub.lines == "book":
        return f"The {rng.choice(BOOK_ADJECTIVES)} {rng.choice(BOOK_NOUNS)}"
    return rng.choice(LINE_NAMES[sub.lines]) if sub.lines else ""


def _draft(rng: random.Random, sub: Subcategory, brand_quality: dict[str, float]) -> dict[str, Any]:
    """One product of ``sub`` without its id (which depends on its place in the catalog)."""
    brands = BRANDS[sub.category] + GENERIC_BRANDS
    weights = [1.0] * len(BRANDS[sub.category]) + [GENERIC_BRAND_WEIGHT] * len(GENERIC_BRANDS)
    brand = rng.choices(brands, weights)[0]
    line = _line_name(rng, sub)
    noun = rng.choice(sub.nouns)
    options = [rng.choice(group) for group in sub.groups]
    attribute_words = [option.title for option in options if option.title]

    if sub.lines == "book":
        title = f"{line} ({' '.join([*attribute_words, noun])})"
    else:
        title = " ".join(part for part in (brand, line, *attribute_words, noun) if part)

    palette = PALETTES[sub.category] if sub.colors == () else sub.colors
    color = _weighted_color(rng, palette) if palette else None
    sizes = _size_run(rng, sub.sizes) if sub.sizes else []

    sentences = [rng.choice(sub.pitches).format(brand=brand, line=line, noun=_in_sentence(noun))]
    if sub.lines == "book":
        sentences.append(f"By {rng.choice(AUTHORS_FIRST)} {rng.choice(AUTHORS_LAST)}, published by {brand}.")
    sentences += [option.sentence for option in options]
    if color:
        sentences.append(rng.choice(COLOR_SENTENCES).format(color=color))
    if sizes and sub.sizes:
        sentences.append(_sizes_sentence(sub.sizes, sizes))
    sentences.append(rng.choice(CLOSERS[sub.category]))

    low, high = sub.price
    factor = math.prod(option.factor for option in options)
    raw = (low + (high - low) * rng.random() ** 1.6) * factor
    price = store_price(min(max(raw, low), high * 1.15))

    if rng.random() < 0.04:
        rating = rng.gauss(2.7, 0.6)
    else:
        rating = rng.gauss(4.25 + brand_quality[brand], 0.3)
    rating = round(min(max(rating, 1.0), 5.0), 1)
    review_count = int(rng.lognormvariate(3.6, 1.2) * (0.3 if rating < 3.5 else 1.0))

    stock = {}
    for store in STORES:
        if store == "online":
            stock[store] = 0 if rng.random() < 0.08 else rng.randint(5, 250)
        else:
            stock[store] = 0 if rng.random() < 0.3 else rng.randint(1, 30)

    tags = [*sub.tags, *(option.tag for option in options if option.tag)]
    if sub.repurchase_days:
        tags.append("consumable")
    if rating >= 4.5 and review_count >= 300:
        tags.append("bestseller")
    return {
        "title": title,
        "description": " ".join(sentences),
        "brand": brand,
        "category": sub.category,
        "subcategory": sub.name,
        "color": color,
        "sizes": sizes,
        "price": price,
        "currency": CURRENCY,
        "rating": rating,
        "review_count": review_count,
        "stock": stock,
        "tags": list(dict.fromkeys(tags)),
        "sku_stem": f"{_code(brand)}-{_code(sub.name)}",
        "repurchase_days": sub.repurchase_days,
    }


def _finish(draft: dict[str, Any], number: int) -> dict[str, Any]:
    """Give a draft its id, SKU and image, in the field order of the normalized schema."""
    product_id = f"P{number:05d}"
    sku_stem = draft.pop("sku_stem")
    color_code = f"-{_code(draft['color'])}" if draft["color"] else ""
    product = {"id": product_id, **draft}
    product["image_url"] = IMAGE_URL.format(id=product_id)
    product["sku"] = f"{sku_stem}-{number:05d}{color_code}"
    order = ("id", "title", "description", "brand", "category", "subcategory", "color", "sizes", "price",
             "currency", "rating", "review_count", "stock", "image_url", "tags", "sku", "repurchase_days")
    return {key: product[key] for key in order}


def build_catalog(rng: random.Random) -> list[dict[str, Any]]:
    """Every product of every subcategory, then the XSS test listing, numbered P00001 on."""
    all_brands = sorted({brand for names in BRANDS.values() for brand in names} | set(GENERIC_BRANDS))
    brand_quality = {brand: rng.uniform(-0.35, 0.25) for brand in all_brands}
    drafts: list[dict[str, Any]] = []
    for sub in SUBCATEGORIES:
        seen: set[tuple[str, str | None]] = set()
        for _ in range(sub.count):
            for _attempt in range(TITLE_ATTEMPTS):
                draft = _draft(rng, sub, brand_quality)
                key = (draft["title"], draft["color"])
                if key not in seen:
                    break
            seen.add(key)
            drafts.append(draft)

    canary = _draft(rng, next(sub for sub in SUBCATEGORIES if sub.name == TEST_LISTING["subcategory"]), brand_quality)
    canary.update(title=TEST_LISTING["title"], description=TEST_LISTING["description"], tags=list(TEST_LISTING["tags"]))
    drafts.append(canary)
    return [_finish(draft, number) for number, draft in enumerate(drafts, 1)]
