"""The shopper as the store sees them: a verified customer, or an anonymous conversation.

Reading and writing are separate: who the shopper is comes only from the signed token
(:func:`actions.context.verified_customer`, no store access), and an action that writes
something of theirs (a cart line, an event, an alert, a handoff, a rating, a consent) first
calls :func:`remember_customer`, which creates a customer the store has not seen before
(signed in on the shop, no orders yet) and notes the conversation they use now.
"""

from __future__ import annotations

import logging

from rasa_sdk import Tracker
from sqlalchemy.exc import SQLAlchemyError

from actions.context import verified_customer
from assistant.store.db import UnitOfWork
from assistant.store.models import Cart, utcnow

log = logging.getLogger(__name__)


def remember_customer(uow: UnitOfWork, tracker: Tracker) -> str | None:
    """The verified customer's id, their row created if the store has not seen them yet (a write).

    Also remembers the conversation and channel they use now, so an abandoned-cart
    reminder reaches them where they last chatted (:mod:`assistant.nudge`).
    """
    customer_id = verified_customer(tracker)
    if customer_id is None:
        return None
    customer = uow.customers.get(customer_id) or uow.customers.upsert(customer_id)
    channel = tracker.get_latest_input_channel()
    if channel and (customer.last_sender_id, customer.last_channel) != (tracker.sender_id, channel):
        uow.customers.upsert(customer_id, last_sender_id=tracker.sender_id, last_channel=channel, last_seen_at=utcnow())
    return customer_id


def cart_of(uow: UnitOfWork, tracker: Tracker) -> Cart | None:
    """The verified customer's cart, else the conversation's own (keyed by the Rasa sender id); a pure read."""
    customer_id = verified_customer(tracker)
    return uow.carts.get(customer_id=customer_id) if customer_id else uow.carts.get(session_key=tracker.sender_id)


def open_cart(uow: UnitOfWork, tracker: Tracker) -> Cart:
    """:func:`cart_of`, created when there is none yet (a write: the customer is remembered too)."""
    customer_id = remember_customer(uow, tracker)
    if customer_id:
        return uow.carts.get_or_create(customer_id=customer_id)
    return uow.carts.get_or_create(session_key=tracker.sender_id)


def record_event(
    uow: UnitOfWork, tracker: Tracker, type: str, product_id: str | None = None, query: str | None = None
) -> None:
    """Remember a search or view for personalization, committed at once; never fail the reply for it.

    A verified customer's event is theirs; a guest's belongs to the conversation (the
    sender id, in ``Event.session_id``), which "delete my data" erases with the customer.
    """
    try:
        record_in(uow, tracker, type, product_id, query)
        uow.commit()
    except SQLAlchemyError:
        log.exception("could not record a %s event", type)
        uow.rollback()


def record_in(uow: UnitOfWork, tracker: Tracker, type: str, product_id: str | None = None, query: str | None = None) -> None:
    """:func:`record_event` without its commit: the caller commits it with its own change (cart changes)."""
    customer_id = remember_customer(uow, tracker)
    owner = {"customer_id": customer_id} if customer_id else {"session_id": tracker.sender_id}
    uow.events.record(type, product_id=product_id, query=query, **owner)
