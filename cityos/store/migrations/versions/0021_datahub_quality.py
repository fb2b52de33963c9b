"""The data resource system's quality runs: a run of a dataset's rules, its results per rule, its failures.

Revision ID: 0021
Revises: 0020
"""

import sqlalchemy as sa
from alembic import op

from cityos.store.engine import JSONDoc

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "datahub_quality_runs",
        sa.Column("tenant", sa.String(64), primary_key=True),
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("at", sa.String(40), nullable=False),
        sa.Column("at_ms", sa.BigInteger(), nullable=False),
        sa.Column("records", sa.Integer(), nullable=False),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("dimensions", JSONDoc, nullable=False),
    )
    op.create_index("ix_datahub_quality_runs_code", "datahub_quality_runs", ["tenant", "code", "at_ms"])
    op.create_table(
        "datahub_quality_results",
        sa.Column("tenant", sa.String(64), primary_key=True),
        sa.Column("run_id", sa.String(32), primary_key=True),
        sa.Column("rule", sa.String(100), primary_key=True),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("dimension", sa.String(16), nullable=False),
        sa.Column("checked", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
    )
    op.create_table(
        "datahub_quality_failures",
        sa.Column("tenant", sa.String(64), primary_key=True),
        sa.Column("run_id", sa.String(32), primary_key=True),
        sa.Column("seq", sa.Integer(), primary_key=True),
        sa.Column("rule", sa.String(100), nullable=False),
        sa.Column("record", sa.String(256), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
    )
    op.create_index("ix_datahub_quality_failures_rule", "datahub_quality_failures", ["tenant", "run_id", "rule"])


def downgrade() -> None:
    op.drop_index("ix_datahub_quality_failures_rule", "datahub_quality_failures")
    op.drop_table("datahub_quality_failures")
    op.drop_table("datahub_quality_results")
    op.drop_index("ix_datahub_quality_runs_code", "datahub_quality_runs")
    op.drop_table("datahub_quality_runs")
