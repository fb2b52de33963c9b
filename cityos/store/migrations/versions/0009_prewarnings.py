"""The vitals package: the pre-warnings in force, from the latest forecast of each group.

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "vitals_prewarnings",
        sa.Column("tenant", sa.String(64), primary_key=True),
        sa.Column("indicator", sa.String(64), primary_key=True),
        sa.Column("scope", sa.String(512), primary_key=True),
        sa.Column("level", sa.Integer(), primary_key=True),
        sa.Column("expected_at", sa.String(32), nullable=False),
        sa.Column("probability", sa.Float(), nullable=False),
        sa.Column("method", sa.String(32), nullable=False),
        sa.Column("issued_at", sa.String(32), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("vitals_prewarnings")
