"""How the NLU benches score a model's intents: the labelled items, the predictions, the figures.

Plain Python with no Rasa import, shared by ``bench/nlu_eval.py`` (which parses every message
through a real Rasa ``Agent`` in ``.venv-rasa``) and whatever else scores the same way.  The
scoring rules are those of ``bench/nlu_eval.py``'s docstring: ``nlu_fallback`` is right for an
``out_of_scope`` item and wrong for any other; shopping intents, product-query recall and the
majority-class line are defined here.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

OUT_OF_SCOPE = "out_of_scope"
NLU_FALLBACK = "nlu_fallback"
NONSENSE_KIND = "nonsense"
SHOPPING_INTENTS = frozenset(
    {
        "search_products",
        "refine_search",
        "show_more",
        "product_details",
        "recommend",
        "add_to_cart",
        "view_cart",
        "remove_from_cart",
        "order_status",
        "cancel_order",
    }
)
PRODUCT_QUERY_INTENTS = frozenset({"search_products", "recommend"})
PRODUCT_ANSWER_INTENTS = frozenset({"search_products", "refine_search", "recommend"})


@dataclass(frozen=True)
class HoldoutItem:
    """One labelled message; ``nonsense`` marks keyboard mash and foreign-language lines."""

    text: str
    intent: str
    nonsense: bool
    source: str = ""


@dataclass(frozen=True)
class Prediction:
    """What the model said: the final intent (maybe ``nlu_fallback``) and the best real one."""

    intent: str
    confidence: float
    top_intent: str
    top_confidence: float


def is_correct(item: HoldoutItem, prediction: Prediction) -> bool:
    """Exact intent match, with ``nlu_fallback`` accepted for out_of_scope items."""
    if item.intent == OUT_OF_SCOPE and prediction.intent == NLU_FALLBACK:
        return True
    return prediction.intent == item.intent


def scored_label(item: HoldoutItem, prediction: Prediction) -> str:
    """The predicted label as scored: fallback on an out_of_scope item counts as out_of_scope."""
    return item.intent if is_correct(item, prediction) else prediction.intent


def per_intent_scores(gold: list[str], predicted: list[str]) -> dict[str, dict[str, float]]:
    """Precision, recall, F1 and support for every gold intent."""
    scores = {}
    for intent in sorted(set(gold)):
        tp = sum(1 for g, p in zip(gold, predicted, strict=True) if g == intent and p == intent)
        fp = sum(1 for g, p in zip(gold, predicted, strict=True) if g != intent and p == intent)
        fn = sum(1 for g, p in zip(gold, predicted, strict=True) if g == intent and p != intent)
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        scores[intent] = {
            "precision": round(precision, 4),
            "recall": round(recall, 4),
            "f1": round(f1, 4),
            "support": tp + fn,
        }
    return scores


def summarize(items: list[HoldoutItem], predictions: list[Prediction]) -> dict[str, Any]:
    """All figures of one run, from the items and the model's predictions in the same order."""
    gold = [item.intent for item in items]
    predicted = [scored_label(i, p) for i, p in zip(items, predictions, strict=True)]
    per_intent = per_intent_scores(gold, predicted)
    correct = sum(1 for g, p in zip(gold, predicted, strict=True) if g == p)
    oos = [(i, p) for i, p in zip(items, predictions, strict=True) if i.intent == OUT_OF_SCOPE]
    nonsense = [(i, p) for i, p in oos if i.nonsense]
    nonsense_shopping = [i.text for i, p in nonsense if p.intent in SHOPPING_INTENTS]
    oos_shopping = [i.text for i, p in oos if p.intent in SHOPPING_INTENTS]
    misclassified = [
        {
            "text": i.text,
            "expected": i.intent,
            "predicted": p.intent,
            "confidence": round(p.confidence, 4),
            "top_intent": p.top_intent,
            "top_confidence": round(p.top_confidence, 4),
        }
        for i, p in zip(items, predictions, strict=True)
        if not is_correct(i, p)
    ]
    product_queries = [p for i, p in zip(items, predictions, strict=True) if i.intent in PRODUCT_QUERY_INTENTS]
    return {
        "items": len(items),
        "accuracy": round(correct / len(items), 4),
        "macro_f1": round(sum(s["f1"] for s in per_intent.values()) / len(per_intent), 4),
        "fallback_rate": round(sum(p.intent == NLU_FALLBACK for p in predictions) / len(items), 4),
        "out_of_scope_recall": per_intent.get(OUT_OF_SCOPE, {}).get("recall", 0.0),
        "product_query_items": len(product_queries),
        "product_query_recall": (
            round(sum(p.intent in PRODUCT_ANSWER_INTENTS for p in product_queries) / len(product_queries), 4)
            if product_queries
            else None
        ),
        "nonsense_items": len(nonsense),
        "nonsense_in_shopping_intent_share": round(len(nonsense_shopping) / len(nonsense), 4) if nonsense else 0.0,
        "nonsense_in_shopping_intent": nonsense_shopping,
        "out_of_scope_in_shopping_intent": oos_shopping,
        "confusions": [
            {"expected": g, "predicted": p, "count": n}
            for (g, p), n in Counter((m["expected"], m["predicted"]) for m in misclassified).most_common()
        ],
        "confusion_matrix": confusion_matrix(gold, predicted),
        "per_intent": per_intent,
        "per_source_accuracy": per_source_accuracy(items, predicted),
        "misclassified": misclassified,
    }


def confusion_matrix(gold: list[str], predicted: list[str]) -> dict[str, Any]:
    """Rows are gold intents, columns predicted ones (``nlu_fallback`` included), both sorted."""
    labels = sorted(set(gold) | set(predicted))
    position = {label: n for n, label in enumerate(labels)}
    counts = [[0] * len(labels) for _ in labels]
    for g, p in zip(gold, predicted, strict=True):
        counts[position[g]][position[p]] += 1
    return {"labels": labels, "counts": counts}


def per_source_accuracy(items: list[HoldoutItem], predicted: list[str]) -> dict[str, dict[str, float]]:
    """Accuracy per corpus, so one corpus's label noise or domain cannot hide in the total."""
    by_source: dict[str, list[bool]] = {}
    for item, label in zip(items, predicted, strict=True):
        if item.source:
            by_source.setdefault(item.source, []).append(item.intent == label)
    return {
        source: {"items": len(hits), "accuracy": round(sum(hits) / len(hits), 4)}
        for source, hits in sorted(by_source.items())
    }


HEADLINE = ("items", "accuracy", "macro_f1", "fallback_rate", "out_of_scope_recall", "product_query_recall")


def headline(report: dict[str, Any]) -> dict[str, Any]:
    """The figures that go in a comparison table, without the per-message detail."""
    return {key: report[key] for key in HEADLINE} | {
        "f1_by_intent": {intent: s["f1"] for intent, s in report["per_intent"].items()}
    }


def majority_class(items: list[HoldoutItem]) -> dict[str, Any]:
    """The trivial line: every message gets the set's most frequent gold intent."""
    intent = Counter(item.intent for item in items).most_common(1)[0][0]
    constant = [Prediction(intent, 1.0, intent, 1.0)] * len(items)
    return {"predicts": intent} | headline(summarize(items, constant))


def known_intents(items: list[HoldoutItem], predictions: list[Prediction], domain_intents: set[str]) -> dict[str, Any]:
    """Figures restricted to gold intents the model was trained on (new intents excluded)."""
    pairs = [(i, p) for i, p in zip(items, predictions, strict=True) if i.intent in domain_intents]
    unknown = Counter(i.intent for i in items if i.intent not in domain_intents)
    if not pairs:
        return {"items": 0, "gold_intents_unknown_to_model": dict(unknown)}
    kept_items, kept_predictions = (list(side) for side in zip(*pairs, strict=True))
    return headline(summarize(kept_items, kept_predictions)) | {"gold_intents_unknown_to_model": dict(unknown)}
