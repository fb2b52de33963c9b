"""An indicator value from a window still filling says how full it was (vitals_values.filling, 0..1; null:
the window covered its whole span), so that it raises no warning, pre-warning or trend.

Revision ID: 0038
Revises: 0037
"""

import sqlalchemy as sa
from alembic import op

revision = "0038"
down_revision = "0037"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("vitals_values") as batch:
        batch.add_column(sa.Column("filling", sa.Float, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("vitals_values") as batch:
        batch.drop_column("filling")
