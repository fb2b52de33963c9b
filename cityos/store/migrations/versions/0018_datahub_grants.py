"""The data resource system's grants (授权共享): datahub_grants and their history, datahub_grant_history.

Revision ID: 0018
Revises: 0017
"""

import sqlalchemy as sa
from alembic import op

from cityos.store.engine import JSONDoc

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "datahub_grants",
        sa.Column("tenant", sa.String(64), primary_key=True),
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("provider", sa.String(64), nullable=False),
        sa.Column("department", sa.String(64), nullable=False),
        sa.Column("scenario", sa.String(256), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("legal_basis", sa.Text(), nullable=False),
        sa.Column("items", JSONDoc, nullable=True),
        sa.Column("starts_at", sa.String(40), nullable=False),
        sa.Column("ends_at", sa.String(40), nullable=False),
        sa.Column("starts_at_ms", sa.BigInteger(), nullable=False),
        sa.Column("ends_at_ms", sa.BigInteger(), nullable=False),
        sa.Column("lifts", sa.String(32), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("requested_by", sa.String(128), nullable=False),
        sa.Column("created_at_ms", sa.BigInteger(), nullable=False),
        sa.Column("updated_at_ms", sa.BigInteger(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
    )
    op.create_index("ix_datahub_grants_reader", "datahub_grants", ["tenant", "department", "code"])
    op.create_index("ix_datahub_grants_provider", "datahub_grants", ["tenant", "provider", "state"])
    op.create_index("ix_datahub_grants_code", "datahub_grants", ["tenant", "code", "state"])
    op.create_table(
        "datahub_grant_history",
        sa.Column("tenant", sa.String(64), primary_key=True),
        sa.Column("grant_id", sa.String(32), primary_key=True),
        sa.Column("seq", sa.Integer(), primary_key=True),
        sa.Column("at", sa.String(40), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("by", sa.String(128), nullable=False),
        sa.Column("by_department", sa.String(64), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("from_state", sa.String(16), nullable=True),
        sa.Column("to_state", sa.String(16), nullable=False),
        sa.Column("changes", JSONDoc, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("datahub_grant_history")
    op.drop_index("ix_datahub_grants_code", table_name="datahub_grants")
    op.drop_index("ix_datahub_grants_provider", table_name="datahub_grants")
    op.drop_index("ix_datahub_grants_reader", table_name="datahub_grants")
    op.drop_table("datahub_grants")
