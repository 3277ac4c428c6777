"""Analytics facts from Rasa's events, the conversations to read, and CSAT ratings (issue #14).

Revision ID: 0010_analytics
Revises: 0006_channel_links
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0010_analytics"
down_revision = "0008"  # after the platform sync cursors (relinked at merge)
branch_labels = None
depends_on = None

Timestamp = sa.DateTime(timezone=True)
KINDS = (
    "conversation_start", "message", "proactive", "fallback", "handoff", "products_shown", "search_zero",
    "add_to_cart", "cart_shown",
)


def upgrade() -> None:
    op.create_table(
        "analytics_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("event_key", sa.String(64), nullable=False),
        sa.Column("sender_id", sa.String(128), nullable=False),
        sa.Column("customer_id", sa.String(64), nullable=True),
        sa.Column("channel", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("at", Timestamp, nullable=False),
        sa.Column("intent", sa.String(64), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("source", sa.String(16), nullable=True),
        sa.Column("product_ids", sa.JSON().with_variant(JSONB(), "postgresql"), nullable=True),
        sa.CheckConstraint("kind IN (" + ", ".join(f"'{kind}'" for kind in KINDS) + ")", name="ck_analytics_events_kind"),
        sa.PrimaryKeyConstraint("id", name="pk_analytics_events"),
        sa.UniqueConstraint("event_key", name="uq_analytics_events_event_key"),
    )
    op.create_index("ix_analytics_events_sender_id", "analytics_events", ["sender_id"])
    op.create_index("ix_analytics_events_customer_id", "analytics_events", ["customer_id"])
    op.create_index("ix_analytics_events_at_kind", "analytics_events", ["at", "kind"])
    op.create_table(
        "analytics_senders",
        sa.Column("sender_id", sa.String(128), nullable=False),
        sa.Column("seen_at", Timestamp, nullable=False),
        sa.Column("read_at", Timestamp, nullable=True),
        sa.PrimaryKeyConstraint("sender_id", name="pk_analytics_senders"),
    )
    op.create_table(
        "csat_ratings",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("sender_id", sa.String(128), nullable=False),
        sa.Column("customer_id", sa.String(64), nullable=True),
        sa.Column("channel", sa.String(64), nullable=False),
        sa.Column("rating", sa.Integer(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("handoff_id", sa.Integer(), nullable=True),
        sa.Column("at", Timestamp, nullable=False),
        sa.CheckConstraint("rating BETWEEN 1 AND 5", name="ck_csat_ratings_rating"),
        sa.ForeignKeyConstraint(
            ["handoff_id"], ["handoff_requests.id"], name="fk_csat_ratings_handoff_id_handoff_requests", ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_csat_ratings"),
    )
    op.create_index("ix_csat_ratings_sender_id", "csat_ratings", ["sender_id"])
    op.create_index("ix_csat_ratings_customer_id", "csat_ratings", ["customer_id"])


def downgrade() -> None:
    op.drop_table("csat_ratings")
    op.drop_table("analytics_senders")
    op.drop_table("analytics_events")
