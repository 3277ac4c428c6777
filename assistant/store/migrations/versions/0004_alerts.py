"""Product alerts: back-in-stock and price-drop alerts per customer and product.

Revision ID: 0004
Revises: 0003_personalization
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003_personalization"
branch_labels = None
depends_on = None

Timestamp = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "product_alerts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("customer_id", sa.String(64), nullable=False),
        sa.Column("product_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reference_price", sa.Numeric(12, 2), nullable=True),
        sa.Column("currency", sa.String(3), nullable=True),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("fired_at", Timestamp, nullable=True),
        sa.Column("channel", sa.String(64), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.CheckConstraint("kind IN ('back_in_stock', 'price_drop')", name="ck_product_alerts_kind"),
        sa.CheckConstraint(
            "status IN ('active', 'sending', 'sent', 'failed', 'cancelled')", name="ck_product_alerts_status"
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name="fk_product_alerts_customer_id_customers", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["product_id"], ["products.id"], name="fk_product_alerts_product_id_products"),
        sa.PrimaryKeyConstraint("id", name="pk_product_alerts"),
    )
    op.create_index("ix_product_alerts_customer_id", "product_alerts", ["customer_id"])
    op.create_index("ix_product_alerts_status_customer_id", "product_alerts", ["status", "customer_id"])


def downgrade() -> None:
    op.drop_table("product_alerts")
