"""Platform sync: cursors per platform and resource, and the platform id of each imported order.

Revision ID: 0008
Revises: 0006
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"  # after the store backend's outbox (the brief said "0006"; relinked so there is one head)
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sync_cursors",
        sa.Column("platform", sa.String(32), nullable=False),
        sa.Column("resource", sa.String(32), nullable=False),
        sa.Column("cursor", sa.String(64), nullable=False),
        sa.Column("synced_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("platform", "resource", name="pk_sync_cursors"),
    )
    op.create_table(
        "platform_orders",
        sa.Column("order_number", sa.String(64), nullable=False),
        sa.Column("platform", sa.String(32), nullable=False),
        sa.Column("external_id", sa.String(128), nullable=False),
        sa.ForeignKeyConstraint(["order_number"], ["orders.order_number"],
                                name="fk_platform_orders_order_number_orders", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("order_number", name="pk_platform_orders"),
    )
    op.create_index("ix_platform_orders_platform_external_id", "platform_orders", ["platform", "external_id"], unique=True)


def downgrade() -> None:
    op.drop_index("ix_platform_orders_platform_external_id", table_name="platform_orders")
    op.drop_table("platform_orders")
    op.drop_table("sync_cursors")
