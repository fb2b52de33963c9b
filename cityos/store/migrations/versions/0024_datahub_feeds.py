"""Feed runs into the base registries (数据归集): datahub_feed_runs with their counts, the conflicts each run
recorded and the records it rejected.

Revision ID: 0024
Revises: 0023
"""

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "datahub_feed_runs",
        sa.Column("tenant", sa.String(64), primary_key=True),
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("department", sa.String(128), nullable=False),
        sa.Column("by", sa.String(128), nullable=False),
        sa.Column("at", sa.String(40), nullable=False),
        sa.Column("at_ms", sa.BigInteger(), nullable=False),
        sa.Column("records", sa.Integer(), nullable=False),
        sa.Column("new", sa.Integer(), nullable=False),
        sa.Column("changed", sa.Integer(), nullable=False),
        sa.Column("unchanged", sa.Integer(), nullable=False),
        sa.Column("conflicting", sa.Integer(), nullable=False),
        sa.Column("rejected", sa.Integer(), nullable=False),
    )
    op.create_index("ix_datahub_feed_runs_at", "datahub_feed_runs", ["tenant", "at_ms"])
    op.create_table(
        "datahub_feed_conflicts",
        sa.Column("tenant", sa.String(64), primary_key=True),
        sa.Column("run_id", sa.String(32), primary_key=True),
        sa.Column("seq", sa.Integer(), primary_key=True),
        sa.Column("record", sa.String(64), nullable=False),
        sa.Column("entity_id", sa.String(256), nullable=False),
        sa.Column("item", sa.String(128), nullable=False),
        sa.Column("source", sa.String(128), nullable=False),
        sa.Column("offered", sa.Text(), nullable=False),
    )
    op.create_table(
        "datahub_feed_rejections",
        sa.Column("tenant", sa.String(64), primary_key=True),
        sa.Column("run_id", sa.String(32), primary_key=True),
        sa.Column("seq", sa.Integer(), primary_key=True),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("record", sa.String(64), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("datahub_feed_rejections")
    op.drop_table("datahub_feed_conflicts")
    op.drop_index("ix_datahub_feed_runs_at", "datahub_feed_runs")
    op.drop_table("datahub_feed_runs")
