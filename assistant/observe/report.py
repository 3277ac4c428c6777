"""The operator's figures over a period and channel: ``analytics report`` and the dashboard.

Everything is computed from the store: the facts folded from Rasa's events
(``analytics_events``), the handoff queue (``handoff_requests``), CSAT answers, and the
shop's orders (history import, and ``order`` events from ``POST /api/events``).
:data:`DEFINITIONS` says how each figure is computed, in the words the dashboard shows.

A conversation is one sender's facts from a ``conversation_start`` to the next; it counts
in the period when it begins there, and only if someone spoke: the shopper (shopper-started)
or our reminder or alert (proactive, never counted in the rates, so reminders can't
inflate containment).
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from assistant.observe.csat import channel_name
from assistant.observe.unanswered import Embed, group_by_meaning, normalized
from assistant.store.models import AnalyticsEvent
from assistant.store.repositories.reports import ReportRepository

ATTRIBUTION_WINDOW = timedelta(days=7)
EXPOSURE_KINDS = ("products_shown", "cart_shown")

DEFINITIONS = {
    "conversations": "Conversations begun in the period in which someone spoke: the shopper, or a reminder or alert we sent.",
    "shopper_started_conversations": "Conversations whose first message came from the shopper (not a cart reminder or product alert).",
    "proactive_conversations": "Conversations our cart reminder or product alert opened.",
    "containment_rate": "Shopper-started conversations with no handoff that did not end on a fallback, over all shopper-started ones.",
    "fallback_rate": "Shopper messages the bot did not understand (the fallback action ran), over all shopper messages.",
    "handoff_rate": "Shopper-started conversations in which a person was requested, over all shopper-started ones.",
    "handoffs_by_reason": "Requests for a person queued in the period, by reason (the intent, frustration, repeated misunderstanding).",
    "handoffs_by_channel": "Requests for a person queued in the period, by channel.",
    "median_claim_seconds": "Median time from a request for a person to an agent claiming it, over requests claimed in the period.",
    "csat": "CSAT answers (1-5) given in the period: their average, count and distribution.",
    "zero_result_searches": "Searches that found nothing even after loosening, by the words searched (lower-cased).",
    "top_unanswered": "Messages the fallback answered, grouped by meaning with the catalog's MiniLM encoder.",
    "search_to_cart_rate": (
        "Conversations with a product search in which something was then added to the cart, over conversations with a search."
    ),
    "recommendation_to_cart_rate": (
        "Conversations with recommendations in which something was then added to the cart, over those with recommendations."
    ),
    "chat_assisted_orders": (
        "Orders placed in the period by a signed-in shopper to whom the chat had shown or added one of the order's products "
        "within the 7 days before."
    ),
    "chat_assisted_revenue": (
        "The total of those orders (order total from the history; for storefront order events, the products' catalog prices)."
    ),
}


@dataclass
class Conversation:
    sender_id: str
    facts: list[AnalyticsEvent] = field(default_factory=list)

    @property
    def spoken(self) -> list[AnalyticsEvent]:
        return [fact for fact in self.facts if fact.kind in ("message", "proactive")]

    @property
    def channel(self) -> str:
        return self.spoken[0].channel if self.spoken else "unknown"

    @property
    def shopper_started(self) -> bool:
        return bool(self.spoken) and self.spoken[0].kind == "message"

    @property
    def handed_off(self) -> bool:
        return any(fact.kind == "handoff" for fact in self.facts)

    @property
    def ended_on_fallback(self) -> bool:
        """The shopper's last message was answered by the fallback."""
        last = max((i for i, fact in enumerate(self.facts) if fact.kind == "message"), default=None)
        return last is not None and any(fact.kind == "fallback" for fact in self.facts[last + 1:])

    def then_added_to_cart(self, source: str) -> bool | None:
        """``None`` without a ``source`` (search or recommend) display, else whether a cart add followed it."""
        shown = [i for i, fact in enumerate(self.facts) if _is_display(fact, source)]
        if not shown:
            return None
        return any(fact.kind == "add_to_cart" for fact in self.facts[shown[0] + 1:])


def _is_display(fact: AnalyticsEvent, source: str) -> bool:
    if fact.kind == "products_shown":
        return fact.source == source
    return source == "search" and fact.kind == "search_zero"


def conversations(facts: Iterable[AnalyticsEvent], since: datetime, channel: str | None) -> list[Conversation]:
    """Split each sender's facts (ordered by time) at ``conversation_start``; keep those begun since ``since``."""
    found: list[Conversation] = []
    current: dict[str, Conversation] = {}
    for fact in facts:
        if fact.kind == "conversation_start" or fact.sender_id not in current:
            current[fact.sender_id] = Conversation(fact.sender_id)
            found.append(current[fact.sender_id])
        current[fact.sender_id].facts.append(fact)
    return [
        conversation for conversation in found
        if conversation.spoken and conversation.facts[0].at >= since
        and (channel is None or conversation.channel == channel)
    ]


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


@dataclass(frozen=True)
class ShopOrder:
    customer_id: str
    placed_at: datetime
    product_ids: frozenset[str]
    value: float


def shop_orders(rows: ReportRepository, since: datetime, until: datetime) -> list[ShopOrder]:
    """The period's orders: history-imported ones, and storefront ``order`` events (one per
    customer and moment) that no imported order already stands for."""
    orders: list[ShopOrder] = []
    imported: set[tuple[str, datetime]] = set()
    for order in rows.orders(since, until):
        items = order.items
        value = order.total if order.total is not None else sum((i.unit_price or 0.0) * i.quantity for i in items)
        orders.append(ShopOrder(order.customer_id, order.placed_at, frozenset(i.product_id for i in items), float(value)))
        imported.add((order.customer_id, order.placed_at))
    lines: dict[tuple[str, datetime], list[tuple[str, float]]] = defaultdict(list)
    for customer_id, at, product_id, price in rows.purchases(since, until):
        if (customer_id, at) not in imported:
            lines[(customer_id, at)].append((product_id, float(price or 0.0)))
    for (customer_id, at), products in lines.items():
        orders.append(ShopOrder(customer_id, at, frozenset(p for p, _ in products), round(sum(v for _, v in products), 2)))
    return orders


def chat_assisted(rows: ReportRepository, since: datetime, until: datetime, channel: str | None) -> tuple[int, float]:
    """Orders (and their value) placed within :data:`ATTRIBUTION_WINDOW` after the chat showed
    or added one of their products to the same signed-in shopper."""
    exposures: dict[str, list[tuple[datetime, set[str]]]] = defaultdict(list)
    for customer_id, at, product_ids in rows.exposures(EXPOSURE_KINDS, since - ATTRIBUTION_WINDOW, until, channel):
        exposures[customer_id].append((at, set(product_ids)))
    count, revenue = 0, 0.0
    for order in shop_orders(rows, since, until):
        if any(
            order.placed_at - ATTRIBUTION_WINDOW <= at < order.placed_at and shown & order.product_ids
            for at, shown in exposures.get(order.customer_id, [])
        ):
            count, revenue = count + 1, revenue + order.value
    return count, round(revenue, 2)


def _handoffs(rows: ReportRepository, since: datetime, until: datetime, channel: str | None) -> dict[str, Any]:
    handoffs = [row for row in rows.handoffs(since, until) if channel is None or channel_name(row.channel) == channel]
    claims = [(row.claimed_at - row.created_at).total_seconds() for row in handoffs if row.claimed_at is not None]
    return {
        "handoffs_by_reason": dict(Counter(row.reason or "unspecified" for row in handoffs).most_common()),
        "handoffs_by_channel": dict(Counter(channel_name(row.channel) for row in handoffs).most_common()),
        "median_claim_seconds": round(statistics.median(claims), 1) if claims else None,
    }


def _csat(rows: ReportRepository, since: datetime, until: datetime, channel: str | None) -> dict[str, Any]:
    ratings = [rating for rating, where in rows.ratings(since, until) if channel is None or channel_name(where) == channel]
    spread = Counter(ratings)
    return {
        "average": round(statistics.fmean(ratings), 2) if ratings else None,
        "count": len(ratings),
        "distribution": {str(score): spread.get(score, 0) for score in range(1, 6)},
    }


def build_report(
    rows: ReportRepository, since: datetime, until: datetime, channel: str | None = None, embed: Embed | None = None,
    top: int = 10,
) -> dict[str, Any]:
    """Every figure of the period ``[since, until)`` (and ``channel``, when given), with :data:`DEFINITIONS`.

    ``rows`` is the unit of work's ``uow.reports``.
    """
    chats = conversations(rows.facts(since, until), since, channel)
    started = [c for c in chats if c.shopper_started]
    messages = [f for c in started for f in c.facts if f.kind == "message"]
    fallbacks = [f for c in started for f in c.facts if f.kind == "fallback"]
    zero = [f.text for c in chats for f in c.facts if f.kind == "search_zero" and f.text]
    contained = [c for c in started if not c.handed_off and not c.ended_on_fallback]
    search_cart = [c.then_added_to_cart("search") for c in chats]
    recommend_cart = [c.then_added_to_cart("recommend") for c in chats]
    orders, revenue = chat_assisted(rows, since, until, channel)
    return {
        "since": since.isoformat(), "until": until.isoformat(), "channel": channel,
        "conversations": len(chats),
        "shopper_started_conversations": len(started),
        "proactive_conversations": len(chats) - len(started),
        "contained_conversations": len(contained),
        "fallback_ended_conversations": sum(c.ended_on_fallback for c in started),
        "handed_off_conversations": sum(c.handed_off for c in started),
        "containment_rate": _rate(len(contained), len(started)),
        "fallback_rate": _rate(len(fallbacks), len(messages)),
        "handoff_rate": _rate(sum(c.handed_off for c in started), len(started)),
        "conversations_by_channel": dict(Counter(c.channel for c in chats).most_common()),
        **_handoffs(rows, since, until, channel),
        "csat": _csat(rows, since, until, channel),
        "zero_result_searches": [
            {"query": query, "count": count} for query, count in Counter(normalized(t) for t in zero).most_common(top)
        ],
        "top_unanswered": group_by_meaning([f.text for f in fallbacks if f.text], embed, top),
        "search_to_cart_rate": _rate(sum(x is True for x in search_cart), sum(x is not None for x in search_cart)),
        "recommendation_to_cart_rate": _rate(
            sum(x is True for x in recommend_cart), sum(x is not None for x in recommend_cart)
        ),
        "chat_assisted_orders": orders,
        "chat_assisted_revenue": revenue,
        "definitions": DEFINITIONS,
    }
