"""Customers: look-up by id or e-mail, creation on first sight, consent."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from assistant.store.models import Customer

UPDATABLE_FIELDS = frozenset(
    {"email", "name", "created_at", "loyalty_tier", "personalization_consent", "marketing_consent",
     "consent_asked_at", "last_channel", "last_sender_id", "last_seen_at", "time_zone"}
)


def normalize_email(email: str) -> str:
    """E-mails are stored and compared trimmed and lower-case, so look-ups can use the index."""
    return email.strip().lower()


class CustomerRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, customer_id: str) -> Customer | None:
        return self.session.get(Customer, customer_id)

    def by_email(self, email: str) -> Customer | None:
        """The customer with this e-mail, compared trimmed and case-insensitively."""
        return self.session.scalars(select(Customer).where(Customer.email == normalize_email(email))).first()

    def upsert(self, customer_id: str, **fields: Any) -> Customer:
        """Create the customer or update the given fields; unknown field names are an error."""
        unknown = set(fields) - UPDATABLE_FIELDS
        if unknown:
            raise TypeError(f"unknown customer fields: {sorted(unknown)}")
        if fields.get("email") is not None:
            fields["email"] = normalize_email(fields["email"])
        customer = self.get(customer_id)
        if customer is None:
            customer = Customer(id=customer_id, **fields)
            self.session.add(customer)
        else:
            for name, value in fields.items():
                setattr(customer, name, value)
        self.session.flush()
        return customer

    def set_personalization_consent(self, customer_id: str, consent: bool) -> Customer:
        """Record the shopper's choice; ``None`` in the column means never asked."""
        return self.upsert(customer_id, personalization_consent=consent)

    def by_sender(self, sender_id: str) -> Customer | None:
        """The customer whose latest verified conversation is ``sender_id`` (how a reminder finds its owner)."""
        statement = select(Customer).where(Customer.last_sender_id == sender_id).order_by(Customer.last_seen_at.desc())
        return self.session.scalars(statement).first()
