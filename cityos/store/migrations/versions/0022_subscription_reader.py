"""Each subscription records who made it: a department's subscription is notified only what that department
may read (cityos.context.governance), in the scenario it named when it subscribed.

Revision ID: 0022
Revises: 0021
"""

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # subscriptions made before are the city's (no department): they stay ungoverned
    with op.batch_alter_table("context_subscriptions") as batch:
        batch.add_column(sa.Column("principal", sa.String(128), nullable=True))
        batch.add_column(sa.Column("department", sa.String(64), nullable=True))
        batch.add_column(sa.Column("scenario", sa.String(256), nullable=True))
        batch.add_column(sa.Column("purpose", sa.String(512), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("context_subscriptions") as batch:
        for column in ("purpose", "scenario", "department", "principal"):
            batch.drop_column(column)
