"""NGSI-LD subscriptions and their delivery status.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "context_subscriptions",
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("id", sa.String(512), nullable=False),
        sa.Column("body", _JSON, nullable=False),
        sa.Column("context", _JSON, nullable=True),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("times_sent", sa.Integer(), nullable=False),
        sa.Column("last_notification", sa.String(32), nullable=True),
        sa.Column("last_success", sa.String(32), nullable=True),
        sa.Column("last_failure", sa.String(32), nullable=True),
        sa.Column("failures_in_a_row", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("modified_at", sa.String(32), nullable=False),
        sa.PrimaryKeyConstraint("tenant", "id", name="pk_context_subscriptions"),
    )


def downgrade() -> None:
    op.drop_table("context_subscriptions")
