"""Service item versions (一网通办 事项): onestop_item_versions, one row per published version of an item, the
item itself as JSON, who published it, when and why.

Revision ID: 0035
Revises: 0034
"""

import sqlalchemy as sa
from alembic import op

from cityos.store.engine import JSONDoc

revision = "0035"
down_revision = "0034"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "onestop_item_versions",
        sa.Column("tenant", sa.String(64), primary_key=True),
        sa.Column("code", sa.String(32), primary_key=True),
        sa.Column("version", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("department", sa.String(64), nullable=False),
        sa.Column("item", JSONDoc, nullable=False),
        sa.Column("by", sa.String(256), nullable=False),
        sa.Column("at", sa.String(40), nullable=False),
        sa.Column("at_ms", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("onestop_item_versions")
