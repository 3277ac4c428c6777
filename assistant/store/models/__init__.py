"""Typed declarative models of the customer store, one module per topic, all on one ``Base.metadata``.

The tables are created by the Alembic migrations, never by ``create_all``; the tests
compare the migrated schema with these models so the two cannot drift apart.  Times are
stored in UTC and always come back timezone-aware (SQLite keeps no zone, PostgreSQL does),
and money comes back as ``float`` so that replies can be serialised to JSON directly.

Importing this package imports every topic module, so the metadata holds every table (the
Alembic environment and the schema tests compare it with the migrations) and
``from assistant.store.models import Order`` works wherever a model is needed.
"""

from __future__ import annotations

from assistant.store.models.analytics import ANALYTICS_KINDS, AnalyticsEvent, AnalyticsSender, CsatRating
from assistant.store.models.backend import OUTBOX_KINDS, BackendOutboxRow, PlatformOrder, ShopperNotice, SyncCursor
from assistant.store.models.base import NAMING_CONVENTION, Base, Money, Payload, UTCDateTime, utcnow
from assistant.store.models.catalog import (
    ALERT_KINDS,
    ALERT_STATUSES,
    PROMOTION_KINDS,
    PROMOTION_SCOPES,
    PROMOTION_SEGMENTS,
    Product,
    ProductAlert,
    Promotion,
)
from assistant.store.models.customers import AuditLog, ChannelLink, Customer
from assistant.store.models.handoffs import AGENT_ROLES, HANDOFF_STATUSES, Agent, HandoffRequest
from assistant.store.models.orders import (
    CANCELLABLE_STATUSES,
    CANCELLATION_REQUESTED,
    REFUND_METHODS,
    RETURN_STATUSES,
    Order,
    OrderItem,
    Refund,
    ReturnRequest,
    Shipment,
)
from assistant.store.models.shopping import EVENT_TYPES, Cart, CartItem, CartNudge, Event

__all__ = [
    "AGENT_ROLES",
    "ALERT_KINDS",
    "ALERT_STATUSES",
    "ANALYTICS_KINDS",
    "Agent",
    "AnalyticsEvent",
    "AnalyticsSender",
    "AuditLog",
    "BackendOutboxRow",
    "Base",
    "CANCELLABLE_STATUSES",
    "CANCELLATION_REQUESTED",
    "Cart",
    "CartItem",
    "CartNudge",
    "ChannelLink",
    "CsatRating",
    "Customer",
    "EVENT_TYPES",
    "Event",
    "HANDOFF_STATUSES",
    "HandoffRequest",
    "Money",
    "NAMING_CONVENTION",
    "OUTBOX_KINDS",
    "Order",
    "OrderItem",
    "PROMOTION_KINDS",
    "PROMOTION_SCOPES",
    "PROMOTION_SEGMENTS",
    "Payload",
    "PlatformOrder",
    "Product",
    "ProductAlert",
    "Promotion",
    "REFUND_METHODS",
    "RETURN_STATUSES",
    "Refund",
    "ReturnRequest",
    "Shipment",
    "ShopperNotice",
    "SyncCursor",
    "UTCDateTime",
    "utcnow",
]
