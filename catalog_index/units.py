"""Numbers with units written one way, so "3/4 in.", '3/4"' and "0.75 inch" are the same term.

Shoppers and catalogs write a measure in many ways: a space or none ("16 gb", "16GB"), a
symbol or a word ('"', "in.", "inches"), a fraction or a decimal ("1-1/2", "1.5").  BM25
matches terms exactly, so each spelling would only meet itself.  :func:`normalize_units`
rewrites every number followed by a known unit into one token, ``<number><unit>`` with the
number as a plain decimal and the unit's canonical short name ("0.75in", "16gb", "1.5ft"),
and is applied to product text and query text alike (``lexical.py``), so both sides meet.
Units that are also ordinary words or sizes ("m", "l", "a", "g") are left alone: "size 10 m"
must not become ten metres.

A fraction without a unit ("1/2 copper pipe", "3/4 plywood": shoppers leave the inch out) is
written as its plain decimal ("0.5"), which is the number term the tokenizer keeps beside
every measure ("0.5in" and "0.5"), so it meets the title's "1/2 in."; ratios and dates
("24/7", "1/2/2015") are left alone.
"""

from __future__ import annotations

import re

# canonical unit -> spellings (lower case; the matcher adds the word boundary)
UNITS: dict[str, tuple[str, ...]] = {
    "in": ("inches", "inch", "in.", "in", '"', "''", "\u201d", "\u2033"),
    "ft": ("feet", "foot", "ft.", "ft", "'", "\u2019", "\u2032"),
    "yd": ("yards", "yard", "yds", "yd"),
    "mm": ("millimeters", "millimetres", "millimeter", "millimetre", "mm"),
    "cm": ("centimeters", "centimetres", "centimeter", "centimetre", "cm"),
    "sqft": ("square feet", "square foot", "sq. ft.", "sq ft.", "sq. ft", "sq ft", "sqft", "sf"),
    "cuft": ("cubic feet", "cubic foot", "cu. ft.", "cu ft.", "cu. ft", "cu ft", "cuft", "cf"),
    "gal": ("gallons", "gallon", "gal.", "gal"),
    "qt": ("quarts", "quart", "qt.", "qt"),
    "oz": ("fluid ounces", "fl. oz.", "fl oz.", "fl. oz", "fl oz", "ounces", "ounce", "oz.", "oz"),
    "lb": ("pounds", "pound", "lbs.", "lbs", "lb.", "lb"),
    "kg": ("kilograms", "kilogram", "kgs", "kg"),
    "ml": ("milliliters", "millilitres", "milliliter", "millilitre", "ml"),
    "liter": ("liters", "litres", "liter", "litre", "ltr"),
    "gb": ("gigabytes", "gigabyte", "gigs", "gig", "gb"),
    "tb": ("terabytes", "terabyte", "tb"),
    "mb": ("megabytes", "megabyte", "mb"),
    "mah": ("mah",),
    "w": ("watts", "watt", "w"),
    "kw": ("kilowatts", "kilowatt", "kw"),
    "v": ("volts", "volt", "v"),
    "amp": ("amperes", "ampere", "amps", "amp"),
    "mp": ("megapixels", "megapixel", "mp"),
    "hz": ("hertz", "hz"),
    "ghz": ("ghz",),
    "btu": ("btus", "btu"),
    "gauge": ("gauge", "ga."),
    "pk": ("packs", "pack", "pk.", "pk", "pcs", "pc", "pieces", "piece", "count", "ct"),
}

_SPELLING_TO_UNIT = {spelling: unit for unit, spellings in UNITS.items() for spelling in spellings}
_SPELLINGS = sorted(_SPELLING_TO_UNIT, key=len, reverse=True)
_NUMBER = r"(?:(\d+)(?:\s+|-)(\d+)/(\d+)|(\d+)/(\d+)|(\d*\.\d+|\d+(?:,\d{3})*(?:\.\d+)?))"
_UNIT = "|".join(re.escape(spelling) for spelling in _SPELLINGS)
# a unit that ends in a letter needs a word boundary after it ("16 gbx" is not 16 GB);
# a symbol unit (", ') must not be the start of a possessive or plural ("80's")
_MEASURE = re.compile(rf"(?<![\w.]){_NUMBER}(?:\s*-\s*|\s*)({_UNIT})(?:(?<=[a-z.])(?![a-z0-9])|(?<![a-z.])(?!s\b))", re.IGNORECASE)
_FRACTION_DENOMINATORS = frozenset({2, 3, 4, 8, 16, 32, 64})
_COMBO_AFTER = re.compile(r"[\s-]*\d")  # "2 in 1", "3-in-1": a combination, not inches
# a fraction left over once the measures are rewritten: plain ("1/2") or mixed ("1-1/2", "1 1/2")
_BARE_FRACTION = re.compile(r"(?<![\w./,])(?:(\d+)(?:\s+|-))?(\d+)/(\d+)(?![\w/]|\.\d)")


def _decimal(value: float) -> str:
    """``0.75`` -> ``"0.75"``, ``16.0`` -> ``"16"``: the shortest plain spelling, at most 3 decimals."""
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return text or "0"


def _value(match: re.Match[str]) -> float | None:
    """The number a match wrote, or ``None`` for a fraction that is not a measure ("24/7")."""
    whole, mixed_num, mixed_den, num, den, plain = match.groups()[:6]
    if plain is not None:
        return float(plain.replace(",", ""))
    numerator, denominator = (mixed_num, mixed_den) if whole is not None else (num, den)
    if int(denominator) not in _FRACTION_DENOMINATORS or int(numerator) == 0:
        return None
    return (int(whole) if whole is not None else 0) + int(numerator) / int(denominator)


def canonical_measure(match: re.Match[str]) -> str:
    """The one-token spelling of a matched measure, or the match unchanged when it is not one."""
    value = _value(match)
    if value is None or (match.group(7).lower() == "in" and _COMBO_AFTER.match(match.string, match.end())):
        return match.group(0)
    return f" {_decimal(value)}{_SPELLING_TO_UNIT[match.group(7).lower()]} "


def _bare_decimal(match: re.Match[str]) -> str:
    """A unit-less fraction as a plain decimal ("1-1/2" -> "1.5"), or unchanged when it is not a measure ("24/7")."""
    whole, numerator, denominator = match.groups()
    if int(denominator) not in _FRACTION_DENOMINATORS or int(numerator) == 0:
        return match.group(0)
    return f" {_decimal((int(whole) if whole else 0) + int(numerator) / int(denominator))} "


def normalize_units(text: str) -> str:
    """``text`` with every number-and-unit written as one canonical token ("3/4 in." -> "0.75in"), bare fractions as decimals."""
    return _BARE_FRACTION.sub(_bare_decimal, _MEASURE.sub(canonical_measure, text))
