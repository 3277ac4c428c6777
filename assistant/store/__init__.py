"""The customer-history store: customers, orders, carts, events, handoffs, audit trail.

SQLite by default (one file in the store's data directory), PostgreSQL at scale; the
schema is created and changed only by the Alembic migrations in ``migrations/``.
Sessions are opened by :class:`assistant.store.db.UnitOfWork`; repositories receive a
session and never commit, so one action call or web request is one transaction.
"""
