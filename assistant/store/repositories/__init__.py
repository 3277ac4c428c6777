"""Repositories of the customer store: each takes a session and never commits.

The caller owns the transaction (``assistant.store.db.UnitOfWork``): one action call or
web request reads and writes through one session and commits once, or not at all.
"""

from assistant.store.repositories.agents import AgentRepository
from assistant.store.repositories.alerts import AlertCandidate, AlertRepository
from assistant.store.repositories.analytics import AnalyticsRepository
from assistant.store.repositories.audit import AuditRepository
from assistant.store.repositories.carts import CartLine, CartRepository
from assistant.store.repositories.channel_links import ChannelLinkRepository
from assistant.store.repositories.customers import CustomerRepository, normalize_email
from assistant.store.repositories.events import EventRepository
from assistant.store.repositories.handoffs import HandoffRepository
from assistant.store.repositories.history import HistoryRepository, Interest, OrderLine
from assistant.store.repositories.notices import NoticeRepository, Recipient
from assistant.store.repositories.nudges import DueCart, NudgeRepository
from assistant.store.repositories.orders import OrderRepository, normalize_order_number
from assistant.store.repositories.outbox import OutboxRepository
from assistant.store.repositories.platform_sync import PlatformSyncRepository
from assistant.store.repositories.privacy import PrivacyRepository
from assistant.store.repositories.products import ProductRepository
from assistant.store.repositories.promotions import PromotionRepository
from assistant.store.repositories.reports import ReportRepository
from assistant.store.repositories.returns import ReturnRepository

__all__ = [
    "AgentRepository",
    "AlertCandidate",
    "AlertRepository",
    "AnalyticsRepository",
    "AuditRepository",
    "CartLine",
    "CartRepository",
    "ChannelLinkRepository",
    "CustomerRepository",
    "DueCart",
    "EventRepository",
    "HandoffRepository",
    "HistoryRepository",
    "Interest",
    "NoticeRepository",
    "NudgeRepository",
    "OrderLine",
    "OrderRepository",
    "OutboxRepository",
    "PlatformSyncRepository",
    "PrivacyRepository",
    "ProductRepository",
    "PromotionRepository",
    "Recipient",
    "ReportRepository",
    "ReturnRepository",
    "normalize_email",
    "normalize_order_number",
]
