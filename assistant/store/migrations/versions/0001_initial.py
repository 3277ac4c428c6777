"""The initial customer store: customers, products mirror, orders, carts, events, handoffs, audit.

Revision ID: 0001_initial
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0001_initial"
down_revision = None
branch_labels = None
depends_on = None

Timestamp = sa.DateTime(timezone=True)
Money = sa.Numeric(12, 2)
Payload = sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "customers",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("email", sa.String(320), nullable=True),
        sa.Column("name", sa.String(200), nullable=True),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("loyalty_tier", sa.String(32), nullable=True),
        sa.Column("personalization_consent", sa.Boolean(), nullable=True),
        sa.Column("marketing_consent", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_customers"),
        sa.UniqueConstraint("email", name="uq_customers_email"),
    )
    op.create_table(
        "products",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("brand", sa.String(200), nullable=True),
        sa.Column("category", sa.String(200), nullable=True),
        sa.Column("subcategory", sa.String(200), nullable=True),
        sa.Column("price", Money, nullable=True),
        sa.Column("currency", sa.String(3), nullable=True),
        sa.Column("payload", Payload, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_products"),
    )
    op.create_table(
        "orders",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("order_number", sa.String(64), nullable=False),
        sa.Column("customer_id", sa.String(64), nullable=False),
        sa.Column("email", sa.String(320), nullable=True),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("placed_at", Timestamp, nullable=False),
        sa.Column("total", Money, nullable=True),
        sa.Column("currency", sa.String(3), nullable=True),
        sa.Column("payment_method", sa.String(64), nullable=True),
        sa.Column("cancelled_at", Timestamp, nullable=True),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"], name="fk_orders_customer_id_customers"),
        sa.PrimaryKeyConstraint("id", name="pk_orders"),
        sa.UniqueConstraint("order_number", name="uq_orders_order_number"),
    )
    op.create_index("ix_orders_customer_id_placed_at", "orders", ["customer_id", "placed_at"])
    op.create_table(
        "order_items",
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.String(64), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("unit_price", Money, nullable=True),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name="fk_order_items_order_id_orders", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["product_id"], ["products.id"], name="fk_order_items_product_id_products"),
        sa.PrimaryKeyConstraint("order_id", "product_id", name="pk_order_items"),
    )
    op.create_index("ix_order_items_product_id", "order_items", ["product_id"])
    op.create_table(
        "shipments",
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("carrier", sa.String(64), nullable=True),
        sa.Column("tracking_number", sa.String(128), nullable=True),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("shipped_at", Timestamp, nullable=True),
        sa.Column("estimated_delivery", Timestamp, nullable=True),
        sa.Column("delivered_at", Timestamp, nullable=True),
        sa.Column("delay_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name="fk_shipments_order_id_orders", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("order_id", name="pk_shipments"),
    )
    op.create_table(
        "refunds",
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("amount", Money, nullable=True),
        sa.Column("refunded_at", Timestamp, nullable=True),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"], name="fk_refunds_order_id_orders", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("order_id", name="pk_refunds"),
    )
    op.create_table(
        "events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("customer_id", sa.String(64), nullable=True),
        sa.Column("session_id", sa.String(128), nullable=True),
        sa.Column("type", sa.String(32), nullable=False),
        sa.Column("product_id", sa.String(64), nullable=True),
        sa.Column("query", sa.Text(), nullable=True),
        sa.Column("at", Timestamp, nullable=False),
        sa.Column("import_key", sa.String(64), nullable=True),
        sa.CheckConstraint(
            "type IN ('view', 'search', 'add_to_cart', 'remove_from_cart', 'purchase')", name="ck_events_type"
        ),
        sa.CheckConstraint("customer_id IS NOT NULL OR session_id IS NOT NULL", name="ck_events_owner"),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name="fk_events_customer_id_customers", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["product_id"], ["products.id"], name="fk_events_product_id_products"),
        sa.PrimaryKeyConstraint("id", name="pk_events"),
        sa.UniqueConstraint("import_key", name="uq_events_import_key"),
    )
    op.create_index("ix_events_customer_id_at", "events", ["customer_id", "at"])
    op.create_index("ix_events_session_id", "events", ["session_id"])
    op.create_table(
        "carts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("customer_id", sa.String(64), nullable=True),
        sa.Column("session_key", sa.String(128), nullable=True),
        sa.Column("updated_at", Timestamp, nullable=False),
        sa.CheckConstraint("(customer_id IS NULL) <> (session_key IS NULL)", name="ck_carts_one_owner"),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name="fk_carts_customer_id_customers", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_carts"),
        sa.UniqueConstraint("customer_id", name="uq_carts_customer_id"),
        sa.UniqueConstraint("session_key", name="uq_carts_session_key"),
    )
    op.create_table(
        "cart_items",
        sa.Column("cart_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.String(64), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("added_at", Timestamp, nullable=False),
        sa.CheckConstraint("quantity > 0", name="ck_cart_items_positive_quantity"),
        sa.ForeignKeyConstraint(["cart_id"], ["carts.id"], name="fk_cart_items_cart_id_carts", ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["product_id"], ["products.id"], name="fk_cart_items_product_id_products"),
        sa.PrimaryKeyConstraint("cart_id", "product_id", name="pk_cart_items"),
    )
    op.create_table(
        "handoff_requests",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("sender_id", sa.String(128), nullable=False),
        sa.Column("customer_id", sa.String(64), nullable=True),
        sa.Column("channel", sa.String(64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("transcript", Payload, nullable=True),
        sa.CheckConstraint("status IN ('waiting', 'active', 'closed')", name="ck_handoff_requests_status"),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name="fk_handoff_requests_customer_id_customers", ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_handoff_requests"),
    )
    op.create_index("ix_handoff_requests_sender_id", "handoff_requests", ["sender_id"])
    op.create_index("ix_handoff_requests_status_created_at", "handoff_requests", ["status", "created_at"])
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("customer_id", sa.String(64), nullable=True),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("at", Timestamp, nullable=False),
        sa.Column("detail", Payload, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_audit_log"),
    )
    op.create_index("ix_audit_log_customer_id_at", "audit_log", ["customer_id", "at"])


def downgrade() -> None:
    for table in (
        "audit_log", "handoff_requests", "cart_items", "carts", "events",
        "refunds", "shipments", "order_items", "orders", "products", "customers",
    ):
        op.drop_table(table)
