"""Store backend: the outbox of requests to the store, return requests, who last set an order's status.

Revision ID: 0007
Revises: 0006_channel_links (relinked at merge)
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0007"
down_revision = "0006_channel_links"
branch_labels = None
depends_on = None

PAYLOAD = sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("orders") as batch:
        batch.add_column(sa.Column("status_source", sa.String(16), nullable=True))
        batch.add_column(sa.Column("status_updated_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("notify_sender_id", sa.String(128), nullable=True))
        batch.add_column(sa.Column("notify_channel", sa.String(64), nullable=True))
    op.create_table(
        "shopper_notices",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("sender_id", sa.String(128), nullable=False),
        sa.Column("channel", sa.String(64), nullable=False),
        sa.Column("order_number", sa.String(64), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("told_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_shopper_notices"),
    )
    op.create_index("ix_shopper_notices_sender_id_told_at", "shopper_notices", ["sender_id", "told_at"])
    op.create_table(
        "backend_outbox",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("idempotency_key", sa.String(128), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("order_id", sa.String(64), nullable=True),
        sa.Column("payload", PAYLOAD, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("failed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_backend_outbox"),
        sa.UniqueConstraint("idempotency_key", name="uq_backend_outbox_idempotency_key"),
    )
    op.create_index(
        "ix_backend_outbox_delivered_at_next_attempt_at", "backend_outbox", ["delivered_at", "next_attempt_at"]
    )
    op.create_index("ix_backend_outbox_order_id_id", "backend_outbox", ["order_id", "id"])
    op.create_table(
        "return_requests",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("number", sa.String(32), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("items", PAYLOAD, nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("refund_method", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('requested', 'approved', 'rejected', 'received', 'refunded', 'cancelled')",
            name="ck_return_requests_status",
        ),
        sa.CheckConstraint(
            "refund_method IN ('original_payment', 'store_credit', 'exchange')", name="ck_return_requests_refund_method"
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name="fk_return_requests_order_id_orders", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_return_requests"),
        sa.UniqueConstraint("number", name="uq_return_requests_number"),
    )
    op.create_index("ix_return_requests_order_id", "return_requests", ["order_id"])


def downgrade() -> None:
    op.drop_index("ix_shopper_notices_sender_id_told_at", table_name="shopper_notices")
    op.drop_table("shopper_notices")
    op.drop_index("ix_return_requests_order_id", table_name="return_requests")
    op.drop_table("return_requests")
    op.drop_index("ix_backend_outbox_order_id_id", table_name="backend_outbox")
    op.drop_index("ix_backend_outbox_delivered_at_next_attempt_at", table_name="backend_outbox")
    op.drop_table("backend_outbox")
    with op.batch_alter_table("orders") as batch:
        batch.drop_column("notify_channel")
        batch.drop_column("notify_sender_id")
        batch.drop_column("status_updated_at")
        batch.drop_column("status_source")
