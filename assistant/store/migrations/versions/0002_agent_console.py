"""Agent console: agent accounts, and who holds a handoff, since when, and a left message.

Revision ID: 0002_agent_console
Revises: 0001_initial
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_agent_console"
down_revision = "0001_initial"
branch_labels = None
depends_on = None

Timestamp = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "agents",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.CheckConstraint("role IN ('agent', 'admin')", name="ck_agents_role"),
        sa.PrimaryKeyConstraint("id", name="pk_agents"),
        sa.UniqueConstraint("username", name="uq_agents_username"),
    )
    # Batch mode: SQLite can only add a foreign key by rebuilding the table.
    with op.batch_alter_table("handoff_requests") as batch:
        batch.add_column(sa.Column("claimed_by", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("claimed_at", Timestamp, nullable=True))
        batch.add_column(sa.Column("closed_at", Timestamp, nullable=True))
        batch.add_column(sa.Column("closed_how", sa.String(16), nullable=True))
        batch.add_column(sa.Column("after_hours", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("left_message", sa.Text(), nullable=True))
        batch.create_foreign_key(
            "fk_handoff_requests_claimed_by_agents", "agents", ["claimed_by"], ["id"], ondelete="SET NULL"
        )


def downgrade() -> None:
    with op.batch_alter_table("handoff_requests") as batch:
        batch.drop_constraint("fk_handoff_requests_claimed_by_agents", type_="foreignkey")
        for column in ("left_message", "after_hours", "closed_how", "closed_at", "claimed_at", "claimed_by"):
            batch.drop_column(column)
    op.drop_table("agents")
