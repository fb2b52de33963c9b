"""The notification outbox: matched notifications kept until their receiver took them.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "context_notification_outbox",
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("subscription_id", sa.String(512), nullable=False),
        sa.Column("notification_id", sa.String(64), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("entity_id", sa.String(512), nullable=False),
        sa.Column("entity", sa.Text(), nullable=False),
        sa.Column("event_time", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("tenant", "subscription_id", "notification_id", name="pk_context_notification_outbox"),
    )


def downgrade() -> None:
    op.drop_table("context_notification_outbox")
