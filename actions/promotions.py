"""Store offers in conversation: "any deals?", "is there a discount on shoes", and the
offer line under search results.

Prices stay the catalog's; an offer is always a separate sentence ("20% off running shoes
when you spend $100 or more, until Dec 1"), so the shopper sees exactly what the checkout
will apply. A verified customer sees only offers their records qualify them for; a guest
sees every offer with its condition in words.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.exc import SQLAlchemyError

from actions.base import ShopAction
from actions.context import searcher, unit_of_work, verified_customer
from actions.replies import money
from assistant.promotions import GUEST, ShopperFacts, eligible, mentions, offers_for_products
from assistant.store.db import UnitOfWork
from assistant.store.models import Promotion
from catalog_index.schema import Product

log = logging.getLogger(__name__)
MAX_LISTED = 5


def offer_text(promotion: Promotion, currency: str = "USD") -> str:
    """One offer in words, e.g. "20% off running shoes when you spend $100 or more, until Dec 1"."""
    amount = f"{promotion.value:g}%" if promotion.kind == "percent" else money(promotion.value, currency)
    if promotion.scope == "store":
        target = "everything"
    elif promotion.scope == "product":
        target = "the " + (_product_title(promotion) or str(promotion.scope_value))
    else:
        target = str(promotion.scope_value)
    parts = [f"{promotion.title}: {amount} off {target}"]
    if promotion.min_basket:
        parts.append(f"when you spend {money(promotion.min_basket, currency)} or more")
    if promotion.segment == "new_customers":
        parts.append("for new customers on their first order")
    elif promotion.segment == "loyalty_tier":
        parts.append(f"for {promotion.segment_value} members")
    if promotion.ends_at is not None:
        parts.append(f"until {promotion.ends_at:%b} {promotion.ends_at.day}")
    return ", ".join(parts)


def shopper_facts(uow: UnitOfWork, customer_id: str | None) -> ShopperFacts:
    """What eligibility may use: has the customer ordered, and their loyalty tier.

    A verified customer the store has not seen yet is a new customer without a tier, not a guest.
    """
    if customer_id is None:
        return GUEST
    customer = uow.customers.get(customer_id)
    if customer is None:
        return ShopperFacts(has_ordered=False)
    return ShopperFacts(has_ordered=uow.orders.latest_for_customer(customer.id) is not None, loyalty_tier=customer.loyalty_tier)


def offers_line(uow: UnitOfWork, tracker: Tracker, products: Sequence[Product]) -> str | None:
    """The offers that cover a shown product and were not stated yet in this conversation,
    as one line; ``None`` when there are none.

    Each offer is told once: a store-wide offer covers every result, and repeating it under
    every search would bury the results. Search must answer even when the store is down, so
    a store error only costs the line.
    """
    try:
        shopper = shopper_facts(uow, verified_customer(tracker))
        offers = offers_for_products(uow.promotions.active(), products, shopper)
    except SQLAlchemyError:
        log.exception("could not look up promotions for search results")
        uow.rollback()
        return None
    currency = next((p.get("currency") for p in products if p.get("currency")), None) or "USD"
    said = [str(event.get("text") or "") for event in tracker.events if event.get("event") == "bot"]
    texts = [text for text in (offer_text(offer, currency) for offer in offers) if not any(text in earlier for earlier in said)]
    if not texts:
        return None
    return "Offers: " + "; ".join(texts[:MAX_LISTED]) + "."


def _product_title(offer: Promotion) -> str | None:
    product = searcher().get(str(offer.scope_value)) if offer.scope == "product" else None
    return product["title"] if product else None


class ActionPromotions(ShopAction):
    action_name = "action_promotions"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict[str, Any]]:
        text = str((tracker.latest_message or {}).get("text") or "")
        topic = " ".join(str(v) for v in tracker.get_latest_entity_values("product_type"))
        with unit_of_work() as uow:
            shopper = shopper_facts(uow, verified_customer(tracker))
            offers = [offer for offer in uow.promotions.active() if eligible(offer, shopper)]
        if not offers:
            dispatcher.utter_message(text="There are no special offers running right now. Prices in the shop are the current ones.")
            return []
        named = [offer for offer in offers if mentions(offer, f"{text} {topic}", _product_title(offer))]
        storewide = [offer for offer in offers if offer.scope == "store"]
        if named:
            chosen, intro = named + storewide, "Yes, here's what applies:"
        elif topic:
            chosen, intro = offers, f"There's no discount on {topic} itself right now. Current offers:"
        else:
            chosen, intro = offers, "Current offers:"
        lines = [f"- {offer_text(offer)}" for offer in chosen[:MAX_LISTED]]
        dispatcher.utter_message(text="\n".join([intro, *lines, "Prices shown in the shop are before the offer."]))
        return []
