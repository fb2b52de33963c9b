"""A feed run's quality run is made in the background, after the feed's commit: datahub_feed_runs gains
``quality`` (pending, done or failed; null when the entry has no quality rules) and ``quality_run`` (the
quality run that checked the run's records, once done).

Revision ID: 0046
Revises: 0045
"""

import sqlalchemy as sa
from alembic import op

revision = "0046"
down_revision = "0045"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("datahub_feed_runs", sa.Column("quality", sa.String(16), nullable=True))
    op.add_column("datahub_feed_runs", sa.Column("quality_run", sa.String(32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("datahub_feed_runs") as batch:
        batch.drop_column("quality_run")
        batch.drop_column("quality")
