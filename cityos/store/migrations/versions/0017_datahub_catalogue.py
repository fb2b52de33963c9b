"""The data resource catalogue: entries (current version), every version with who, when and why, and the
one source of each data item (datahub_entries, datahub_entry_versions, datahub_item_sources).

Revision ID: 0017
Revises: 0016
"""

import sqlalchemy as sa
from alembic import op

from cityos.store.engine import JSONDoc

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "datahub_entries",
        sa.Column("tenant", sa.String(64), primary_key=True),
        sa.Column("code", sa.String(64), primary_key=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("provider", sa.String(128), nullable=False),
        sa.Column("classification", sa.String(512), nullable=False),
        sa.Column("sharing", sa.String(16), nullable=False),
        sa.Column("opening", sa.String(16), nullable=False),
        sa.Column("level", sa.String(64), nullable=True),
        sa.Column("search", sa.Text(), nullable=False),
        sa.Column("entry", JSONDoc, nullable=False),
        sa.Column("updated_at", sa.String(32), nullable=False),
    )
    op.create_index("ix_datahub_entries_provider", "datahub_entries", ["tenant", "provider"])
    op.create_table(
        "datahub_entry_versions",
        sa.Column("tenant", sa.String(64), primary_key=True),
        sa.Column("code", sa.String(64), primary_key=True),
        sa.Column("version", sa.Integer(), primary_key=True),
        sa.Column("entry", JSONDoc, nullable=False),
        sa.Column("changed_by", sa.String(128), nullable=False),
        sa.Column("changed_at", sa.String(32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
    )
    op.create_table(
        "datahub_item_sources",
        sa.Column("tenant", sa.String(64), primary_key=True),
        sa.Column("item_key", sa.String(256), primary_key=True),
        sa.Column("department", sa.String(128), nullable=False),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("item", sa.String(128), nullable=False),
    )
    op.create_index("ix_datahub_item_sources_code", "datahub_item_sources", ["tenant", "code"])


def downgrade() -> None:
    op.drop_index("ix_datahub_item_sources_code", table_name="datahub_item_sources")
    op.drop_table("datahub_item_sources")
    op.drop_table("datahub_entry_versions")
    op.drop_index("ix_datahub_entries_provider", table_name="datahub_entries")
    op.drop_table("datahub_entries")
