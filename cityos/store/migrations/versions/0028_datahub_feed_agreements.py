"""Feed runs that settle earlier conflicts (数据归集): datahub_feed_agreements, and an index of the conflicts
by their source department (the source's conflict list).

Revision ID: 0028
Revises: 0027
"""

import sqlalchemy as sa
from alembic import op

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "datahub_feed_agreements",
        sa.Column("tenant", sa.String(64), primary_key=True),
        sa.Column("run_id", sa.String(32), primary_key=True),
        sa.Column("seq", sa.Integer(), primary_key=True),
        sa.Column("department", sa.String(128), nullable=False),
        sa.Column("record", sa.String(64), nullable=False),
        sa.Column("attribute", sa.String(128), nullable=False),
        sa.Column("source", sa.String(128), nullable=False),
        sa.Column("at_ms", sa.BigInteger(), nullable=False),
    )
    op.create_index("ix_datahub_feed_agreements_source", "datahub_feed_agreements", ["tenant", "source"])
    op.create_index("ix_datahub_feed_conflicts_source", "datahub_feed_conflicts", ["tenant", "source"])


def downgrade() -> None:
    op.drop_index("ix_datahub_feed_conflicts_source", "datahub_feed_conflicts")
    op.drop_index("ix_datahub_feed_agreements_source", "datahub_feed_agreements")
    op.drop_table("datahub_feed_agreements")
