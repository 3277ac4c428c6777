"""Channel links: a messaging account (WhatsApp, Messenger, Instagram, SMS, Slack) linked to a customer.

Revision ID: 0006_channel_links
Revises: 0005_agent_accounts
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_channel_links"
down_revision = "0005_agent_accounts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "channel_links",
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("channel_user_id", sa.String(128), nullable=False),
        sa.Column("customer_id", sa.String(64), nullable=False),
        sa.Column("linked_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name="fk_channel_links_customer_id_customers", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("channel", "channel_user_id", name="pk_channel_links"),
    )
    op.create_index("ix_channel_links_customer_id", "channel_links", ["customer_id"])


def downgrade() -> None:
    op.drop_index("ix_channel_links_customer_id", table_name="channel_links")
    op.drop_table("channel_links")
