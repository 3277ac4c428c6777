"""Product alerts: set, list and cancel them, and hand them over once to the reminder runner.

The status moves ``active`` -> ``sending`` (claimed by one runner) -> ``sent`` (shown in
the conversation by ``action_alert_fired``). Each step is a conditional UPDATE on the
status it expects, so two runners, or a runner and a shopper typing ``/alert_fired``,
never send or show one alert twice. A claim that could not be delivered goes back to
``active`` for the next run, or to ``failed`` after :data:`MAX_ATTEMPTS`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, selectinload

from assistant.store.dml import changed_rows
from assistant.store.models import Customer, Product, ProductAlert, utcnow

MAX_ATTEMPTS = 3


@dataclass(frozen=True)
class AlertCandidate:
    """An active alert of a customer who agreed to marketing and has a conversation to reach;
    whether its product now qualifies is decided by :func:`assistant.alerts.is_due`."""

    alert: ProductAlert
    product: Product
    sender_id: str
    channel: str
    time_zone: str | None


class AlertRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def product(self, product_id: str) -> Product | None:
        """The store's mirror row of a catalog product (price and stock as the runner sees them)."""
        return self.session.get(Product, product_id)

    def add(self, customer_id: str, product: Product, kind: str) -> ProductAlert:
        alert = ProductAlert(
            customer_id=customer_id, product_id=product.id, kind=kind, status="active",
            reference_price=product.price, currency=product.currency, created_at=utcnow(), attempts=0,
        )
        self.session.add(alert)
        self.session.flush()
        return alert

    def active(self, customer_id: str) -> list[ProductAlert]:
        """The customer's alerts still waiting to fire, oldest first, products loaded."""
        statement = (
            select(ProductAlert).options(selectinload(ProductAlert.product))
            .where(ProductAlert.customer_id == customer_id, ProductAlert.status == "active")
            .order_by(ProductAlert.created_at, ProductAlert.id)
        )
        return list(self.session.scalars(statement))

    def count_active(self, customer_id: str) -> int:
        statement = select(func.count(ProductAlert.id)).where(
            ProductAlert.customer_id == customer_id, ProductAlert.status == "active"
        )
        return int(self.session.scalar(statement) or 0)

    def cancel(self, alerts: Iterable[ProductAlert]) -> int:
        """Cancel these alerts if they are still active; returns how many were."""
        ids = [alert.id for alert in alerts]
        if not ids:
            return 0
        return changed_rows(
            self.session,
            update(ProductAlert).where(ProductAlert.id.in_(ids), ProductAlert.status == "active")
            .values(status="cancelled", detail="cancelled by the customer"),
        )

    def candidates(self, limit: int = 1000) -> list[AlertCandidate]:
        """Active alerts whose owner agreed to marketing messages and has a last conversation."""
        statement = (
            select(ProductAlert, Product, Customer.last_sender_id, Customer.last_channel, Customer.time_zone)
            .join(Product, Product.id == ProductAlert.product_id)
            .join(Customer, Customer.id == ProductAlert.customer_id)
            .where(
                ProductAlert.status == "active",
                Customer.marketing_consent.is_(True),
                Customer.last_sender_id.is_not(None),
                Customer.last_channel.is_not(None),
            )
            .order_by(ProductAlert.customer_id, ProductAlert.id)
            .limit(limit)
        )
        return [
            AlertCandidate(alert, product, sender_id, channel, time_zone)
            for alert, product, sender_id, channel, time_zone in self.session.execute(statement)
            if sender_id is not None and channel is not None  # excluded above; narrows the types
        ]

    def claim(self, alert_ids: Iterable[int]) -> list[int]:
        """Move still-active alerts to ``sending``; returns the ids this caller now holds."""
        claimed = []
        for alert_id in alert_ids:
            if changed_rows(
                self.session,
                update(ProductAlert).where(ProductAlert.id == alert_id, ProductAlert.status == "active")
                .values(status="sending", attempts=ProductAlert.attempts + 1),
            ):
                claimed.append(alert_id)
        return claimed

    def sending(self, customer_id: str) -> list[ProductAlert]:
        """The customer's alerts a runner has claimed and not yet seen delivered."""
        statement = (
            select(ProductAlert).options(selectinload(ProductAlert.product))
            .where(ProductAlert.customer_id == customer_id, ProductAlert.status == "sending")
            .order_by(ProductAlert.id)
        )
        return list(self.session.scalars(statement))

    def mark_sent(self, alert: ProductAlert, channel: str | None) -> bool:
        """Record that the conversation showed the alert; ``False`` if someone else already did."""
        return bool(changed_rows(
            self.session,
            update(ProductAlert).where(ProductAlert.id == alert.id, ProductAlert.status == "sending")
            .values(status="sent", fired_at=utcnow(), channel=channel, detail=None),
        ))

    def release(self, alert_ids: Iterable[int], detail: str) -> int:
        """Claimed alerts that were not delivered: back to ``active`` for a retry, or ``failed``
        once they have been tried :data:`MAX_ATTEMPTS` times; returns how many there were."""
        released = 0
        for alert in self.session.scalars(
            select(ProductAlert).where(ProductAlert.id.in_(list(alert_ids)), ProductAlert.status == "sending")
            .execution_options(populate_existing=True)
        ):
            alert.status = "failed" if alert.attempts >= MAX_ATTEMPTS else "active"
            alert.detail = detail
            released += 1
        self.session.flush()
        return released
