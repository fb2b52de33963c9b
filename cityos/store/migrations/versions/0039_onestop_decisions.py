"""The automatic decisions on one-stop applications (onestop_decisions): each time the rules were asked, the
outcome, the reasons and the rule trace.

Revision ID: 0039
Revises: 0038
"""

import sqlalchemy as sa
from alembic import op

from cityos.store.engine import JSONDoc

revision = "0039"
down_revision = "0038"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "onestop_decisions",
        sa.Column("tenant", sa.String(64), primary_key=True),
        sa.Column("application_id", sa.String(32), primary_key=True),
        sa.Column("seq", sa.Integer, primary_key=True),
        sa.Column("at_ms", sa.BigInteger, nullable=False),
        sa.Column("stage", sa.String(16), nullable=False),
        sa.Column("item_code", sa.String(64), nullable=False),
        sa.Column("item_version", sa.Integer, nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("reasons", JSONDoc, nullable=False),
        sa.Column("trace", JSONDoc, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("onestop_decisions")
