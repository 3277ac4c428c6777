"""The shopper as the store sees them: a verified customer, or an anonymous conversation.

A verified customer id comes only from the signed token (:func:`actions.context.verified_customer`);
a customer the store has not seen before (signed in on the shop, no orders yet) is
created on first sight so their cart and events can point at them.
"""

from __future__ import annotations

import logging

from rasa_sdk import Tracker
from sqlalchemy.exc import SQLAlchemyError

from actions.context import unit_of_work, verified_customer
from assistant.store.db import UnitOfWork
from assistant.store.models import Cart

log = logging.getLogger(__name__)


def known_customer(uow: UnitOfWork, tracker: Tracker) -> str | None:
    """The verified customer's id, their row created if the store has not seen them yet."""
    customer_id = verified_customer(tracker)
    if customer_id is not None and uow.customers.get(customer_id) is None:
        uow.customers.upsert(customer_id)
    return customer_id


def cart_of(uow: UnitOfWork, tracker: Tracker, create: bool) -> Cart | None:
    """The verified customer's cart, else the conversation's own (keyed by the Rasa sender id)."""
    customer_id = known_customer(uow, tracker)
    owner = {"customer_id": customer_id} if customer_id else {"session_key": tracker.sender_id}
    return uow.carts.get_or_create(**owner) if create else uow.carts.get(**owner)


def record_event(tracker: Tracker, type: str, product_id: str | None = None, query: str | None = None) -> None:
    """Remember a verified customer's search or view for personalization; never fail the reply for it."""
    if verified_customer(tracker) is None:
        return
    try:
        with unit_of_work() as uow:
            customer_id = known_customer(uow, tracker)
            uow.events.record(type, customer_id=customer_id, product_id=product_id, query=query)
            uow.commit()
    except SQLAlchemyError:
        log.exception("could not record a %s event", type)
