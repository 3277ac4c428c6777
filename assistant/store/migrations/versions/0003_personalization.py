"""Personalization: consent bookkeeping, last channel per customer, promotions, cart-reminder log.

Revision ID: 0003_personalization
Revises: 0002_agent_console
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_personalization"
down_revision = "0002_agent_console"
branch_labels = None
depends_on = None

Timestamp = sa.DateTime(timezone=True)
Money = sa.Numeric(12, 2)
CUSTOMER_COLUMNS = (
    ("consent_asked_at", Timestamp),
    ("last_channel", sa.String(64)),
    ("last_sender_id", sa.String(128)),
    ("last_seen_at", Timestamp),
    ("time_zone", sa.String(64)),
)


def upgrade() -> None:
    # Batch mode: SQLite cannot alter tables in place; on PostgreSQL it is plain ALTER TABLE.
    with op.batch_alter_table("customers") as batch:
        for name, type_ in CUSTOMER_COLUMNS:
            batch.add_column(sa.Column(name, type_, nullable=True))
        batch.create_index("ix_customers_last_sender_id", ["last_sender_id"])
    op.create_table(
        "promotions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("value", Money, nullable=False),
        sa.Column("scope", sa.String(16), nullable=False),
        sa.Column("scope_value", sa.String(200), nullable=True),
        sa.Column("min_basket", Money, nullable=True),
        sa.Column("segment", sa.String(16), nullable=False),
        sa.Column("segment_value", sa.String(32), nullable=True),
        sa.Column("starts_at", Timestamp, nullable=True),
        sa.Column("ends_at", Timestamp, nullable=True),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.CheckConstraint("kind IN ('percent', 'amount')", name="ck_promotions_kind"),
        sa.CheckConstraint("scope IN ('store', 'category', 'product')", name="ck_promotions_scope"),
        sa.CheckConstraint("segment IN ('everyone', 'new_customers', 'loyalty_tier')", name="ck_promotions_segment"),
        sa.CheckConstraint("value > 0", name="ck_promotions_positive_value"),
        sa.PrimaryKeyConstraint("id", name="pk_promotions"),
        sa.UniqueConstraint("code", name="uq_promotions_code"),
    )
    op.create_index("ix_promotions_starts_at_ends_at", "promotions", ["starts_at", "ends_at"])
    op.create_table(
        "cart_nudges",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("customer_id", sa.String(64), nullable=False),
        sa.Column("cart_version", sa.String(96), nullable=False),
        sa.Column("sender_id", sa.String(128), nullable=False),
        sa.Column("channel", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name="fk_cart_nudges_customer_id_customers", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_cart_nudges"),
        sa.UniqueConstraint("cart_version", name="uq_cart_nudges_cart_version"),
    )
    op.create_index("ix_cart_nudges_customer_id", "cart_nudges", ["customer_id"])


def downgrade() -> None:
    op.drop_table("cart_nudges")
    op.drop_table("promotions")
    with op.batch_alter_table("customers") as batch:
        batch.drop_index("ix_customers_last_sender_id")
        for name, _ in reversed(CUSTOMER_COLUMNS):
            batch.drop_column(name)
