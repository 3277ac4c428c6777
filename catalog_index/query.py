"""Split a shopper's query into hard constraints and the text left for relevance ranking.

"waterproof hiking boots under $150 in size 10" becomes ``price_max=150``, ``sizes=["10"]``,
``category="hiking boots"`` and the text "waterproof hiking boots".  Price, size, stock,
colour and brand words are removed from the text (the filters carry them); the product
type stays in it too, because it is also the best relevance signal and removing it would
leave nothing to rank by for "boots under 50".  Brands and categories are recognized
against the loaded catalog's :class:`Vocabulary`, so parsing works on any retailer's data.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cached_property

from catalog_index.colors import COLOR_SEPARATORS, QUERY_COLOR_WORDS, canonical_color
from catalog_index.schema import Product, size_key

ATTRIBUTES = frozenset({"price", "color", "size", "stock"})


def _recorded(product: Product) -> dict[str, bool]:
    return {
        "price": product.get("price") is not None,
        "color": bool(product.get("color")),
        "size": bool(product.get("sizes")),
        "stock": bool(product.get("stock")),
    }


@dataclass(frozen=True)
class Vocabulary:
    """What this catalog's products call their brands, colours and categories (lower-case -> as written)."""

    brands: dict[str, str] = field(default_factory=dict)
    colors: frozenset[str] = frozenset()
    categories: dict[str, str] = field(default_factory=dict)
    # Attributes the catalog records at all.  A constraint on one it lacks (a size in a
    # catalog without sizes) could only ever match nothing, so its words stay relevance text.
    attributes: frozenset[str] = ATTRIBUTES

    @classmethod
    def from_products(cls, products: Iterable[Product]) -> Vocabulary:
        """Collect brands, colours (whole and split at ``/``, ``&``...) and categories and subcategories."""
        brands: dict[str, str] = {}
        colors: set[str] = set()
        categories: dict[str, str] = {}
        attributes: set[str] = set()
        for product in products:
            attributes.update(name for name, present in _recorded(product).items() if present)
            if brand := product.get("brand"):
                brands.setdefault(brand.lower(), brand)
            if color := product.get("color"):
                full = canonical_color(color)
                colors.add(full)
                colors.update(canonical_color(part) for part in COLOR_SEPARATORS.split(full) if part.strip())
            for name in (product.get("category"), product.get("subcategory")):
                if name:
                    categories.setdefault(name.lower(), name)
        return cls(
            brands=brands, colors=frozenset(c for c in colors if len(c) >= 3), categories=categories,
            attributes=frozenset(attributes),
        )

    # The phrase patterns are built once per vocabulary (a loaded index version), not per query:
    # escaping and joining a large catalog's hundreds of names was most of a parse (2.6 ms at 100k products).
    @cached_property
    def brand_pattern(self) -> re.Pattern[str] | None:
        """Any of the brands, longest first, on word boundaries."""
        return _phrase_pattern(self.brands)

    @cached_property
    def category_variants(self) -> dict[str, str]:
        """Each category in either number (``boot``/``boots``) -> its lower-case key in ``categories``."""
        return {variant: term for term in self.categories for variant in number_variants(term)}

    @cached_property
    def category_pattern(self) -> re.Pattern[str] | None:
        """Any category in either number, longest first, on word boundaries."""
        return _phrase_pattern(self.category_variants)

    @cached_property
    def color_pattern(self) -> re.Pattern[str] | None:
        """Any colour word a shopper may use or the catalog writes, longest first, on word boundaries."""
        return _phrase_pattern(QUERY_COLOR_WORDS | self.colors)


_NO_VOCABULARY = Vocabulary()  # one instance, so its colour pattern is built once


@dataclass
class ParsedQuery:
    """The constraints found in a query and the remaining relevance text."""

    text: str
    price_min: float | None = None
    price_max: float | None = None
    colors: list[str] = field(default_factory=list)
    brands: list[str] = field(default_factory=list)
    sizes: list[str] = field(default_factory=list)
    category: str | None = None
    in_stock: bool = False
    budget: bool = False  # "cheap"/"budget": no hard bound, a ranking preference for lower prices


_NUMBER = r"(\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)"
_CURRENCY = r"(?:\$|usd|dollars?|bucks|eur|euros?|€|£|gbp|pounds?)"
_NOT_A_UNIT = (
    r"(?!\s*(?:%|kg\b|g\b|lbs?\b|oz\b|mm\b|cm\b|m\b|inch|\"|gb\b|tb\b|mah\b|w\b|ml\b|l\b"
    r"|pack\b|pcs\b|pieces?\b|people\b|person\b|seats?\b))"
)
_PRICE = rf"(?:{_CURRENCY}\s*)?{_NUMBER}(?:\s*{_CURRENCY})?{_NOT_A_UNIT}"
_PRICE_WITH_CURRENCY = rf"(?:{_CURRENCY}\s*{_NUMBER}(?:\s*{_CURRENCY})?|{_NUMBER}\s*{_CURRENCY})"
_MAX_WORDS = (
    r"(?:under|below|less\s+than|cheaper\s+than|lower\s+than|no\s+more\s+than|not\s+more\s+than"
    r"|up\s+to|at\s+most|max(?:imum)?|within|<=?|≤)"
)
_MIN_WORDS = r"(?:over|above|more\s+than|at\s+least|min(?:imum)?|starting\s+at|from|>=?|≥)"
_RANGE_SEPARATOR = r"\s*(?:and|to|-|–)\s*"
_SIZE_VALUE = r"(\d+(?:\.\d+)?|xxxl|xxl|xxs|xl|xs|s|m|l|extra\s+large|extra\s+small|x-large|x-small|xx-large|small|medium|large)"
_FLAGS = re.IGNORECASE

RANGE_PATTERNS = (
    re.compile(rf"(?<!\w)(?:between|from|priced|price)\s+{_PRICE}{_RANGE_SEPARATOR}{_PRICE}", _FLAGS),
    re.compile(rf"(?<![\w.]){_PRICE_WITH_CURRENCY}\s*(?:-|–|to)\s*{_PRICE}", _FLAGS),
    re.compile(rf"(?<![\w.]){_NUMBER}\s*(?:-|–|to)\s*{_PRICE_WITH_CURRENCY}", _FLAGS),
)
MAX_PATTERNS = (
    re.compile(rf"(?<!\w){_MAX_WORDS}\s*{_PRICE}", _FLAGS),
    re.compile(rf"(?<![\w.]){_PRICE}\s*(?:or\s+less|or\s+under|or\s+below|and\s+under|max)\b", _FLAGS),
)
MIN_PATTERNS = (
    re.compile(rf"(?<!\w){_MIN_WORDS}\s*{_PRICE}", _FLAGS),
    re.compile(rf"(?<![\w.]){_PRICE}\s*(?:or\s+more|and\s+up|and\s+above|and\s+over|\+)", _FLAGS),
)
SIZE_PATTERN = re.compile(rf"(?<!\w)(?:size|sz\.?|sized)\s*[:#]?\s*{_SIZE_VALUE}(?![\w.])", _FLAGS)
IN_STOCK_PATTERN = re.compile(r"(?<!\w)(?:in[- ]stock|available\s+now|available\s+today|on\s+hand)(?!\w)", _FLAGS)
BUDGET_PATTERN = re.compile(r"(?<!\w)(?:cheap|cheapest|budget|affordable|inexpensive|low[- ]cost|bargain)(?!\w)", _FLAGS)
CURRENCY_LEFTOVER = re.compile(rf"(?<!\w){_CURRENCY}(?!\w)|\$", _FLAGS)
DANGLING = {
    "in", "for", "with", "and", "or", "at", "of", "priced", "costing", "cost", "that",
    "a", "the", "price", "size", "sizes", "only", "which", "is", "are", "some", "me",
}
_PLACEHOLDER = "\x00"
# Phrases whose colour word names no colour: "it's black friday" is a sale, not a filter.
NOT_A_COLOR = re.compile(
    r"(?<!\w)(?:black\s+friday|cyber\s+monday|green\s+monday|white\s+elephant|white\s+noise|red\s+carpet|"
    r"black\s+tie|green\s+tea|black\s+coffee)(?!\w)",
    _FLAGS,
)


def without_non_colors(text: str) -> str:
    """``text`` with the phrases of :data:`NOT_A_COLOR` blanked out (same length)."""
    return NOT_A_COLOR.sub(lambda m: _PLACEHOLDER * len(m.group()), text)


def _amount(text: str) -> float:
    return float(text.replace(",", ""))


def _phrase_pattern(phrases: Iterable[str]) -> re.Pattern[str] | None:
    """One alternation, longest phrase first, matched on word boundaries."""
    ordered = sorted(set(phrases), key=len, reverse=True)
    if not ordered:
        return None
    return re.compile(r"(?<!\w)(" + "|".join(re.escape(phrase) for phrase in ordered) + r")(?!\w)", _FLAGS)


def number_variants(term: str) -> set[str]:
    """``boot`` <-> ``boots``, ``dress`` <-> ``dresses``: enough to match how shoppers type types."""
    variants = {term, term + "s", term + "es"}
    if term.endswith("es"):
        variants.add(term[:-2])
    if term.endswith("s"):
        variants.add(term[:-1])
    return variants


def _size_label(value: str) -> str:
    """``"medium"`` -> ``"M"``, ``"9.5"`` stays: how sizes are written on products."""
    key = size_key(value)
    return key.upper() if key.isalpha() else key


def _clean(text: str, prices_parsed: bool) -> str:
    """Drop leftover currency signs and dangling connectors ("boots in" -> "boots")."""
    if prices_parsed:
        text = CURRENCY_LEFTOVER.sub(" ", text)
    words = re.sub(r"\s+", " ", text).strip(" ,.;:!?-").split()
    while words and words[-1].lower().strip(",.;:!?") in DANGLING:
        words.pop()
    while words and words[0].lower().strip(",.;:!?") in DANGLING:
        words.pop(0)
    return " ".join(words).strip(" ,.;:!?-")


def _category_match(text: str, vocabulary: Vocabulary) -> tuple[re.Match[str], str] | None:
    """The longest phrase of ``text`` naming one of the catalog's categories (either number), with that category."""
    pattern = vocabulary.category_pattern
    match = max(pattern.finditer(text), key=lambda m: len(m.group(1)), default=None) if pattern else None
    return None if match is None else (match, vocabulary.categories[vocabulary.category_variants[match.group(1).lower()]])


def category_named(text: str, vocabulary: Vocabulary) -> str | None:
    """The catalog category ``text`` names ("hiking boot" -> "Hiking Boots"), without parsing anything else."""
    found = _category_match(text, vocabulary)
    return None if found is None else found[1]


def parse_query(text: str, vocabulary: Vocabulary | None = None) -> ParsedQuery:
    """Parse ``text``; brands and catalog-specific colours and categories need ``vocabulary``.

    Without a vocabulary every built-in constraint (price, size, stock, common colours) is parsed.
    """
    vocabulary = vocabulary or _NO_VOCABULARY
    parsed = ParsedQuery(text="")
    rest = f" {text} "

    def take(pattern: re.Pattern[str], record: Callable[[re.Match[str]], None]) -> None:
        """Record every match of ``pattern`` and cut it out of the remaining text."""
        nonlocal rest

        def cut(match: re.Match[str]) -> str:
            record(match)
            return " "

        rest = pattern.sub(cut, rest)

    known = vocabulary.attributes
    if "stock" in known:
        take(IN_STOCK_PATTERN, lambda m: setattr(parsed, "in_stock", True))
    if "size" in known:
        take(SIZE_PATTERN, lambda m: parsed.sizes.append(_size_label(m.group(1))))

    def record_range(match: re.Match[str]) -> None:
        low, high = sorted(_amount(group) for group in match.groups() if group)
        parsed.price_min, parsed.price_max = low, high

    if "price" in known:
        for pattern in RANGE_PATTERNS:
            take(pattern, record_range)
        for pattern in MAX_PATTERNS:
            take(pattern, lambda m: setattr(parsed, "price_max", _amount(next(g for g in m.groups() if g))))
        for pattern in MIN_PATTERNS:
            take(pattern, lambda m: setattr(parsed, "price_min", _amount(next(g for g in m.groups() if g))))
        take(BUDGET_PATTERN, lambda m: setattr(parsed, "budget", True))

    brand_pattern = vocabulary.brand_pattern
    if brand_pattern:
        take(brand_pattern, lambda m: parsed.brands.append(vocabulary.brands[m.group(1).lower()]))

    # the category phrase stays in the text; hide it so "white wine glasses" keeps its "white"
    category_phrase = ""
    found = _category_match(rest, vocabulary)
    if found:
        match, parsed.category = found
        category_phrase = match.group(1)
        rest = rest[: match.start(1)] + _PLACEHOLDER + rest[match.end(1):]

    color_pattern = vocabulary.color_pattern
    if color_pattern and "color" in known:
        hidden = [m.group() for m in NOT_A_COLOR.finditer(rest)]
        rest = without_non_colors(rest)
        take(color_pattern, lambda m: parsed.colors.append(canonical_color(m.group(1))))
        for phrase in hidden:
            rest = re.sub(re.escape(_PLACEHOLDER * len(phrase)), phrase, rest, count=1)

    parsed.colors = list(dict.fromkeys(parsed.colors))
    parsed.brands = list(dict.fromkeys(parsed.brands))
    parsed.sizes = list(dict.fromkeys(parsed.sizes))
    parsed.text = _clean(rest.replace(_PLACEHOLDER, category_phrase), "price" in known)
    return parsed
