"""Repositories of the customer store: each takes a session and never commits.

The caller owns the transaction (``assistant.store.db.UnitOfWork``): one action call or
web request reads and writes through one session and commits once, or not at all.
"""

from assistant.store.repositories.audit import AuditRepository
from assistant.store.repositories.carts import CartLine, CartRepository
from assistant.store.repositories.customers import CustomerRepository, normalize_email
from assistant.store.repositories.events import EventRepository
from assistant.store.repositories.handoffs import HandoffRepository
from assistant.store.repositories.orders import OrderRepository, normalize_order_number

__all__ = [
    "AuditRepository",
    "CartLine",
    "CartRepository",
    "CustomerRepository",
    "EventRepository",
    "HandoffRepository",
    "OrderRepository",
    "normalize_email",
    "normalize_order_number",
]
