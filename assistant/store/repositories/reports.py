"""What the operator's report reads, period by period: facts, orders, handoffs, CSAT answers.

The figures themselves are computed in :mod:`assistant.observe.report`; this module only
fetches the rows of a period ``[since, until)``, so the report never builds SQL of its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from assistant.store.models import AnalyticsEvent, CsatRating, Event, HandoffRequest, Order, Product


class ReportRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def facts(self, since: datetime, until: datetime) -> list[AnalyticsEvent]:
        """The period's analytics facts, each sender's in time order (conversations are cut from them)."""
        return list(self.session.scalars(
            select(AnalyticsEvent).where(AnalyticsEvent.at >= since, AnalyticsEvent.at < until)
            .order_by(AnalyticsEvent.sender_id, AnalyticsEvent.at, AnalyticsEvent.id)
        ))

    def orders(self, since: datetime, until: datetime) -> list[Order]:
        """History-imported orders placed in the period (their items load on access)."""
        return list(self.session.scalars(select(Order).where(Order.placed_at >= since, Order.placed_at < until)))

    def purchases(self, since: datetime, until: datetime) -> list[tuple[str, datetime, str, float | None]]:
        """Storefront ``purchase`` events of signed-in customers: (customer, at, product, its catalog price)."""
        rows = self.session.execute(
            select(Event.customer_id, Event.at, Event.product_id, Product.price)
            .join(Product, Product.id == Event.product_id, isouter=True)
            .where(Event.type == "purchase", Event.customer_id.is_not(None), Event.at >= since, Event.at < until)
        )
        return [
            (customer_id, at, product_id, price) for customer_id, at, product_id, price in rows
            if customer_id is not None and product_id is not None  # customer: excluded above; narrows the type
        ]

    def exposures(
        self, kinds: Sequence[str], since: datetime, until: datetime, channel: str | None
    ) -> list[tuple[str, datetime, list[str]]]:
        """Facts of ``kinds`` tied to a signed-in customer: (customer, at, product ids)."""
        query = select(AnalyticsEvent.customer_id, AnalyticsEvent.at, AnalyticsEvent.product_ids).where(
            AnalyticsEvent.kind.in_(kinds), AnalyticsEvent.customer_id.is_not(None),
            AnalyticsEvent.at >= since, AnalyticsEvent.at < until,
        )
        if channel is not None:
            query = query.where(AnalyticsEvent.channel == channel)
        return [
            (customer_id, at, list(product_ids or [])) for customer_id, at, product_ids in self.session.execute(query)
            if customer_id is not None  # excluded by the query; narrows the type
        ]

    def handoffs(self, since: datetime, until: datetime) -> list[HandoffRequest]:
        """Requests for a person queued in the period."""
        query = select(HandoffRequest).where(HandoffRequest.created_at >= since, HandoffRequest.created_at < until)
        return list(self.session.scalars(query))

    def ratings(self, since: datetime, until: datetime) -> list[tuple[int, str]]:
        """CSAT answers given in the period: (rating, channel)."""
        query = select(CsatRating.rating, CsatRating.channel).where(CsatRating.at >= since, CsatRating.at < until)
        return [(rating, channel) for rating, channel in self.session.execute(query)]
