"""District return (数据属地返还): datahub_return_grants (standing grants with their watermarks), datahub_return_runs
(one row per run with its counts), datahub_returned (which city record each grant returned at which version), and
an index of the hub's entities by modification time, which incremental runs read by.

Revision ID: 0026
Revises: 0025
"""

import sqlalchemy as sa
from alembic import op

from cityos.store.engine import JSONDoc

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_context_entities_modified", "context_entities", ["tenant", "modified_at"])
    op.create_table(
        "datahub_return_grants",
        sa.Column("tenant", sa.String(64), primary_key=True),
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("district_tenant", sa.String(64), nullable=False),
        sa.Column("district", sa.String(128), nullable=False),
        sa.Column("codes", JSONDoc, nullable=False),
        sa.Column("area", JSONDoc, nullable=True),
        sa.Column("area_entity", sa.String(512), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("watermark", sa.String(32), nullable=True),
        sa.Column("made_by", sa.String(128), nullable=False),
        sa.Column("made_at", sa.String(32), nullable=False),
        sa.Column("made_at_ms", sa.BigInteger(), nullable=False),
        sa.Column("ended_by", sa.String(128), nullable=True),
        sa.Column("ended_at", sa.String(32), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
    )
    op.create_index("ix_datahub_return_grants_district", "datahub_return_grants", ["tenant", "district_tenant"])
    op.create_table(
        "datahub_return_runs",
        sa.Column("tenant", sa.String(64), primary_key=True),
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("grant_id", sa.String(32), nullable=False),
        sa.Column("district_tenant", sa.String(64), nullable=False),
        sa.Column("by", sa.String(128), nullable=False),
        sa.Column("at", sa.String(32), nullable=False),
        sa.Column("at_ms", sa.BigInteger(), nullable=False),
        sa.Column("full", sa.Boolean(), nullable=False),
        sa.Column("read", sa.Integer(), nullable=False),
        sa.Column("new", sa.Integer(), nullable=False),
        sa.Column("changed", sa.Integer(), nullable=False),
        sa.Column("removed", sa.Integer(), nullable=False),
        sa.Column("unchanged", sa.Integer(), nullable=False),
        sa.Column("since", sa.String(32), nullable=True),
        sa.Column("watermark", sa.String(32), nullable=True),
        sa.Column("seconds", sa.Float(), nullable=False),
    )
    op.create_index("ix_datahub_return_runs_grant", "datahub_return_runs", ["tenant", "grant_id", "at_ms"])
    op.create_table(
        "datahub_returned",
        sa.Column("tenant", sa.String(64), primary_key=True),
        sa.Column("grant_id", sa.String(32), primary_key=True),
        sa.Column("entity_id", sa.String(512), primary_key=True),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("modified_at", sa.String(32), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("datahub_returned")
    op.drop_index("ix_datahub_return_runs_grant", table_name="datahub_return_runs")
    op.drop_table("datahub_return_runs")
    op.drop_index("ix_datahub_return_grants_district", table_name="datahub_return_grants")
    op.drop_table("datahub_return_grants")
    op.drop_index("ix_context_entities_modified", table_name="context_entities")
