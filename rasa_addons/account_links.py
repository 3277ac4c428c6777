"""One shopper across channels: link tokens sent on a messaging channel, and "unlink", in the Rasa process.

The store's backend signs a short-lived link token for a signed-in customer
(:func:`assistant.identity.sign_link_token`, store secret). The shopper sends it once on the
channel: ``link <token>`` (a ``wa.me`` link with that prefilled text, an SMS, a Slack DM),
``/start <token>`` (a Telegram deep link) or a Messenger ``ref`` parameter (the connector
turns it into ``link <token>``). From then on that channel account maps to the customer in
the customer store (table ``channel_links``), and each of its messages reaches Rasa with a
freshly signed customer token in its metadata, exactly as the web gateway sends it, so order
status, cart and personalization work there under the same consent rules. "unlink" removes
the mapping; erasure removes all of a customer's links; without a link the shopper is a guest.

Link and unlink messages are answered here and never enter the conversation (a token in a
tracker would outlive its purpose). Rasa's runtime has SQLAlchemy 1.4, not the store's 2.x
models, so this module reads and writes the one table with SQLAlchemy Core; the store's side
is ``assistant/store/repositories/channel_links.py``.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
from datetime import datetime, timezone
from functools import lru_cache

import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url

from assistant.identity import read_link_token, sign_customer_token

log = logging.getLogger(__name__)

TOKEN = r"[A-Za-z0-9_-]{1,600}\.\d{1,12}\.[A-Za-z0-9_-]{20,100}"
LINK_MESSAGE = re.compile(rf"^[\s\u2060]*/?(?:start|link)\s+({TOKEN})\s*$", re.IGNORECASE)
UNLINK_MESSAGE = re.compile(r"^[\s\u2060]*/?unlink(?:\s+(?:my\s+)?account)?\s*[.!]?\s*$", re.IGNORECASE)
CUSTOMER_TOKEN_TTL = 600

LINKED = ("Your account is linked: I can now help with your orders, cart and recommendations here. "
          'Say "unlink" to undo it.')
LINK_FAILED = "That link has expired or isn't valid. Please get a new one from your account page on our shop."
UNLINKED = ("Done: this chat is no longer linked to your account. "
            "You can still ask about an order with its order number and your e-mail.")
NOT_LINKED = "This chat isn't linked to an account."
UNAVAILABLE = "Sorry, I can't link accounts right now. Please try again in a minute."

METADATA = sa.MetaData()
CHANNEL_LINKS = sa.Table(
    "channel_links", METADATA,
    sa.Column("channel", sa.String(32), primary_key=True),
    sa.Column("channel_user_id", sa.String(128), primary_key=True),
    sa.Column("customer_id", sa.String(64), nullable=False),
    sa.Column("linked_at", sa.DateTime(timezone=True), nullable=False),
)
CUSTOMERS = sa.Table("customers", METADATA, sa.Column("id", sa.String(64), primary_key=True))


def rasa_side_url(database_url: str) -> str:
    """The store's URL for this SQLAlchemy: Rasa's 1.4 knows psycopg2 only, where the store uses psycopg 3."""
    url = make_url(database_url)
    if url.get_backend_name() == "postgresql" and sa.__version__.startswith("1."):
        url = url.set(drivername="postgresql+psycopg2")
    return str(url.render_as_string(hide_password=False))


class AccountLinks:
    """The ``channel_links`` table as the connectors use it, and the answers to link and unlink messages."""

    def __init__(self, database_url: str, store_secret: str) -> None:
        self.engine: Engine = sa.create_engine(rasa_side_url(database_url), pool_pre_ping=True)
        self.store_secret = store_secret

    def customer_for(self, channel: str, user_id: str) -> str | None:
        with self.engine.connect() as connection:
            return connection.execute(sa.select(CHANNEL_LINKS.c.customer_id).where(
                CHANNEL_LINKS.c.channel == channel, CHANNEL_LINKS.c.channel_user_id == user_id)).scalar()

    def link(self, channel: str, user_id: str, customer_id: str) -> bool:
        """Link the account; ``False`` when the store has no such customer."""
        with self.engine.begin() as connection:
            if connection.execute(sa.select(CUSTOMERS.c.id).where(CUSTOMERS.c.id == customer_id)).scalar() is None:
                return False
            connection.execute(CHANNEL_LINKS.delete().where(
                CHANNEL_LINKS.c.channel == channel, CHANNEL_LINKS.c.channel_user_id == user_id))
            connection.execute(CHANNEL_LINKS.insert().values(
                channel=channel, channel_user_id=user_id, customer_id=customer_id, linked_at=datetime.now(timezone.utc)))
        return True

    def unlink(self, channel: str, user_id: str) -> bool:
        with self.engine.begin() as connection:
            return bool(connection.execute(CHANNEL_LINKS.delete().where(
                CHANNEL_LINKS.c.channel == channel, CHANNEL_LINKS.c.channel_user_id == user_id)).rowcount)

    def answer(self, channel: str, user_id: str, text: str) -> str | None:
        """The reply to a link or unlink message (done here), or ``None`` for any other message."""
        if (match := LINK_MESSAGE.match(text)) is not None:
            customer_id = read_link_token(match.group(1), self.store_secret)
            if customer_id is None or not self.link(channel, user_id, customer_id):
                return LINK_FAILED
            log.info("a %s account was linked to a customer", channel)
            return LINKED
        if UNLINK_MESSAGE.match(text):
            return UNLINKED if self.unlink(channel, user_id) else NOT_LINKED
        return None

    def customer_token(self, channel: str, user_id: str) -> str | None:
        """A fresh customer token for a linked account (as the gateway would send), ``None`` for a guest."""
        customer_id = self.customer_for(channel, user_id)
        return sign_customer_token(customer_id, self.store_secret, CUSTOMER_TOKEN_TTL) if customer_id else None


@lru_cache(maxsize=1)
def account_links() -> AccountLinks | None:
    """The links of the store the launcher gave Rasa (``SHOP_DATABASE_URL``, ``SHOP_STORE_SECRET``); ``None``
    without them (every messaging shopper is then a guest)."""
    url, secret = os.environ.get("SHOP_DATABASE_URL"), os.environ.get("SHOP_STORE_SECRET")
    if not url or not secret:
        log.warning("no SHOP_DATABASE_URL / SHOP_STORE_SECRET: messaging shoppers stay guests")
        return None
    return AccountLinks(url, secret)


async def answer_link_message(channel: str, user_id: str, text: str) -> str | None:
    """:meth:`AccountLinks.answer` off the event loop; a store failure is said, never a crash."""
    links = account_links()
    if links is None or not (LINK_MESSAGE.match(text) or UNLINK_MESSAGE.match(text)):
        return None
    try:
        return await asyncio.to_thread(links.answer, channel, user_id, text)
    except sa.exc.SQLAlchemyError:
        log.exception("the customer store could not be reached to link or unlink an account")
        return UNAVAILABLE


async def linked_customer_token(channel: str, user_id: str) -> str | None:
    """The customer token of a linked account, off the event loop; a guest when the store is unreachable."""
    links = account_links()
    if links is None:
        return None
    try:
        return await asyncio.to_thread(links.customer_token, channel, user_id)
    except sa.exc.SQLAlchemyError:
        log.exception("the customer store could not be reached; the shopper is a guest for this message")
        return None
