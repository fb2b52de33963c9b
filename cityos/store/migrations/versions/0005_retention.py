"""Retention policies and rollups of compacted attribute history.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "context_retention",
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("entity_type", sa.String(512), nullable=False),
        sa.Column("raw_days", sa.Integer(), nullable=False),
        sa.Column("hourly_days", sa.Integer(), nullable=False),
        sa.Column("daily_days", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("tenant", "entity_type", name="pk_context_retention"),
    )
    op.create_table(
        "context_attr_rollup",
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("entity_id", sa.String(512), nullable=False),
        sa.Column("attr", sa.String(512), nullable=False),
        sa.Column("dataset_id", sa.String(512), nullable=False),
        sa.Column("period", sa.String(8), nullable=False),
        sa.Column("start", sa.BigInteger(), nullable=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.Column("num_n", sa.BigInteger(), nullable=False),
        sa.Column("total", sa.Float(), nullable=True),
        sa.Column("sumsq", sa.Float(), nullable=True),
        sa.Column("low", sa.Float(), nullable=True),
        sa.Column("high", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint(
            "tenant", "entity_id", "attr", "dataset_id", "period", "start", name="pk_context_attr_rollup"
        ),
    )


def downgrade() -> None:
    op.drop_table("context_attr_rollup")
    op.drop_table("context_retention")
