"""What the recommenders may know about one shopper, with consent applied once, here.

The consent contract (shared with the chat side): ``Customer.personalization_consent`` True
lets the recommenders use the customer's orders, views and cart; False (they said no) or
None (not asked yet) leaves only the cart of the current conversation, which the shopper
just put there themselves and expects to be used.  An anonymous shopper is the same.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property

from assistant.store.db import UnitOfWork
from assistant.store.models import utcnow
from assistant.store.repositories.history import Interest, OrderLine

INTEREST_LIMIT = 200  # the newest views and cart additions are plenty to know current tastes


@dataclass
class Profile:
    """One shopper's history as of ``as_of``; empty when there is no consent to use it."""

    as_of: datetime
    customer_id: str | None = None
    lines: list[OrderLine] = field(default_factory=list)  # oldest first
    interests: list[Interest] = field(default_factory=list)  # newest first
    cart: list[str] = field(default_factory=list)
    personalized: bool = False

    @cached_property
    def bought(self) -> dict[str, list[datetime]]:
        """Purchase moments per product, oldest first, one per order (lines are not changed after loading)."""
        moments: dict[str, list[datetime]] = {}
        for line in self.lines:
            moments.setdefault(line.product_id, []).append(line.at)
        return moments

    @property
    def order_count(self) -> int:
        return len({line.order_id for line in self.lines})

    def recent_products(self, limit: int) -> list[tuple[str, str]]:
        """``(product, how)`` for the newest distinct products bought or looked at, newest first."""
        seen: dict[str, str] = {}
        events = [(line.at, line.product_id, "bought") for line in self.lines]
        events += [(interest.at, interest.product_id, "viewed") for interest in self.interests]
        for _, product_id, how in sorted(events, key=lambda e: e[0], reverse=True):
            if product_id not in seen:
                seen[product_id] = how
            if len(seen) == limit:
                break
        return list(seen.items())


def may_personalize(uow: UnitOfWork, customer_id: str | None) -> bool:
    """Only an explicit yes (``personalization_consent`` True) allows using the customer's history."""
    customer = uow.customers.get(customer_id) if customer_id is not None else None
    return customer is not None and customer.personalization_consent is True


def load_profile(
    uow: UnitOfWork, customer_id: str | None, session_key: str | None = None,
    as_of: datetime | None = None, consent_checked: bool = False,
) -> Profile:
    """The shopper's profile; history only with consent (or when the caller already checked it: the evaluation)."""
    as_of = as_of or utcnow()
    personal = consent_checked or may_personalize(uow, customer_id)
    history = uow.history
    if customer_id is not None and personal:
        return Profile(
            as_of, customer_id, history.customer_lines(customer_id, before=as_of),
            history.interests(customer_id, INTEREST_LIMIT, before=as_of),
            history.cart_products(customer_id=customer_id), personalized=True,
        )
    if customer_id is not None:
        cart = history.cart_products(customer_id=customer_id)
    else:
        cart = history.cart_products(session_key=session_key) if session_key else []
    return Profile(as_of, customer_id, cart=cart)
