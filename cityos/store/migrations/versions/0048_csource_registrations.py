"""NGSI-LD context source registrations and csourceSubscriptions (issue 24): a registration as the client gave
it with the @context it was made in, its mode, endpoint and expiresAt in columns of their own; a csource
subscription likewise, with its delivery status.

Revision ID: 0048
Revises: 0047
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0048"
down_revision = "0047"
branch_labels = None
depends_on = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "context_csource_registrations",
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("id", sa.String(512), nullable=False),
        sa.Column("body", _JSON, nullable=False),
        sa.Column("context", _JSON, nullable=True),
        sa.Column("mode", sa.String(16), nullable=False),
        sa.Column("endpoint", sa.String(2048), nullable=False),
        sa.Column("expires_at", sa.String(32), nullable=True),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("modified_at", sa.String(32), nullable=False),
        sa.PrimaryKeyConstraint("tenant", "id", name="pk_context_csource_registrations"),
    )
    op.create_table(
        "context_csource_subscriptions",
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("id", sa.String(512), nullable=False),
        sa.Column("body", _JSON, nullable=False),
        sa.Column("context", _JSON, nullable=True),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("times_sent", sa.Integer(), nullable=False),
        sa.Column("times_failed", sa.Integer(), nullable=False),
        sa.Column("last_notification", sa.String(32), nullable=True),
        sa.Column("last_success", sa.String(32), nullable=True),
        sa.Column("last_failure", sa.String(32), nullable=True),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("modified_at", sa.String(32), nullable=False),
        sa.PrimaryKeyConstraint("tenant", "id", name="pk_context_csource_subscriptions"),
    )


def downgrade() -> None:
    op.drop_table("context_csource_subscriptions")
    op.drop_table("context_csource_registrations")
