"""Answers to questions about one product, taken from its own catalog fields and nothing else.

Named attributes ("how much", "what sizes", "which brand", "in stock", "rating", "specs")
come straight from the fields. Any other question ("is it waterproof", "is it safe for
kids") is answered by quoting the product's own sentences that answer it: those sharing a
word with the question, else those the MiniLM encoder of the catalog index finds close in
meaning. When nothing answers, the reply says plainly that the catalog does not say:
a shopper must never be told something the store has not written down.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from actions.replies import money, product_details_text, stock_known
from catalog_index.schema import Product

Encoder = Callable[[Sequence[str]], np.ndarray]

ASPECTS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile(pattern, re.I))
    for name, pattern in (
        ("specs", r"\b(specs?|specifications?|features|full details|all the details|everything about)\b"),
        ("price", r"\b(how much|price|prices|cost|costs|priced)\b"),
        ("brand", r"\b(brand|who makes|maker|manufacturer|made by)\b"),
        ("color", r"\b(colou?rs?|shades?)\b"),
        ("sizes", r"\b(sizes?|my size)\b"),
        ("stock", r"\b(in stock|stock|availability|available|pick (it |them )?up|which stores?|in store|left)\b"),
        ("rating", r"\b(rating|rated|reviews?|reviewers|stars?|any good|people like)\b"),
    )
)
STOP = frozenset(
    "is it its it's this that these those does do did can could will would should the a an for of to be with in on "
    "my i me you your one ones how what which who are they them there good any have has about kind much many very "
    "really tell give some and or but if as at by from so than too get got use used using make made does don't "
    "first second third fourth fifth last number please ok well also just".split()
)
NEGATION = re.compile(r"\b(not|no|non|never|without|isn't|aren't|doesn't|don't)\b[\s-]*(\w+\s+){0,2}$", re.I)
SENTENCE = re.compile(r"(?<=[.!?])\s+")
WORD = re.compile(r"[a-z0-9]+")
MEANING_THRESHOLD = 0.5
QUOTES = 2


@dataclass(frozen=True)
class Answer:
    """The reply text and whether the catalog actually answered (``False``: it does not say)."""

    text: str
    answered: bool


def asked_aspects(question: str) -> list[str]:
    """The named attributes a question asks about, in :data:`ASPECTS` order."""
    return [name for name, pattern in ASPECTS if pattern.search(question)]


def aspect_line(product: Product, aspect: str) -> str:
    """One attribute of the product as a sentence; says so when the catalog has no value."""
    title = product.get("title")
    if aspect == "price":
        return f"The {title} costs {money(product.get('price'), product.get('currency'))}."
    if aspect == "brand":
        return f"It's made by {product['brand']}." if product.get("brand") else "The catalog doesn't name its brand."
    if aspect == "color":
        return f"Colour: {product['color']}." if product.get("color") else "The catalog doesn't list its colour."
    if aspect == "sizes":
        sizes = product.get("sizes") or []
        return f"Sizes: {', '.join(sizes)}." if sizes else "The catalog lists no sizes for it."
    if aspect == "stock":
        if not stock_known(product):
            return "The catalog doesn't say how many are on hand; our team can check for you."
        stock = product["stock"]
        places = [f"{place} {count}" for place, count in stock.items() if count > 0]
        return f"On hand: {', '.join(places)}." if places else "It's out of stock everywhere right now."
    if aspect == "rating":
        rating = product.get("rating")
        return f"Rated {rating:.1f} out of 5." if rating is not None else "It has no rating yet."
    return product_details_text(product)


def passages(product: Product) -> list[str]:
    """The product's own sentences: description sentences, then its tags as one line."""
    description = str(product.get("description") or "").strip()
    sentences = [sentence.strip() for sentence in SENTENCE.split(description) if sentence.strip()]
    tags = [str(tag) for tag in product.get("tags") or [] if tag]
    if tags:
        sentences.append("Listed as: " + ", ".join(tags) + ".")
    return sentences


def keywords(question: str) -> set[str]:
    """The question's words that can be looked up in a product's text ("waterproof", "kids")."""
    return {word for word in WORD.findall(question.lower()) if word not in STOP and len(word) > 2}


def _stems(word: str) -> set[str]:
    return {word, word.rstrip("s"), word + "s", word[:-2] if word.endswith("es") else word}


def word_evidence(question: str, sentences: list[str]) -> list[tuple[str, str]]:
    """(sentence, first keyword) for each sentence containing every keyword of the question.

    Every keyword, not any: "is it safe for kids" is not answered by "Dishwasher safe."
    """
    asked = keywords(question)
    found = []
    for sentence in sentences:
        words = set(WORD.findall(sentence.lower()))
        present = [word for word in sorted(asked) if _stems(word) & words]
        if asked and len(present) == len(asked):
            found.append((sentence, present[0]))
    return found


def meaning_evidence(question: str, sentences: list[str], encode: Encoder) -> list[str]:
    """The sentences closest in meaning to the question, above :data:`MEANING_THRESHOLD`."""
    if not sentences:
        return []
    vectors = encode([question, *sentences])
    scores = vectors[1:] @ vectors[0]
    ranked = sorted(zip(scores.tolist(), sentences, strict=True), reverse=True)
    return [sentence for score, sentence in ranked if score >= MEANING_THRESHOLD][:QUOTES]


def negated(sentence: str, word: str) -> bool:
    """"Not waterproof": the word is negated within the two words before it."""
    position = sentence.lower().find(word)
    return position >= 0 and NEGATION.search(sentence[:position]) is not None


def answer_question(product: Product, question: str, encode: Encoder) -> Answer:
    """Answer ``question`` about ``product`` from its fields, quoting them; say so when they don't say."""
    aspects = asked_aspects(question)
    if aspects:
        return Answer(" ".join(aspect_line(product, aspect) for aspect in aspects), True)
    sentences = passages(product)
    by_word = word_evidence(question, sentences)
    if by_word:
        sentence, word = by_word[0]
        yes_no = re.match(r"\s*(is|are|does|do|can|will|has|have)\b", question, re.I) is not None
        verdict = ("No. " if negated(sentence, word) else "Yes. ") if yes_no else ""
        quoted = " ".join(f"\"{s}\"" for s, _ in by_word[:QUOTES])
        return Answer(f"{verdict}The catalog says about the {product.get('title')}: {quoted}", True)
    close = meaning_evidence(question, sentences, encode)
    if close:
        quoted = " ".join(f"\"{s}\"" for s in close)
        return Answer(f"Here's what the catalog says about the {product.get('title')}: {quoted}", True)
    said = f" What it does say: \"{sentences[0]}\"" if sentences else ""
    return Answer(f"The catalog doesn't say that about the {product.get('title')}, so I can't promise it.{said}", False)
