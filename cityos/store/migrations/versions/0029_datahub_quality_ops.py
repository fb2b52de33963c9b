"""Quality runs as operations (数据质量检测): who or what started a run (a person through the API, a feed run,
the schedule), the department whose dataset it checked, the feed run it followed, and the values of the
rule's items in each failing record (to mask them for the reader when the failures are read).

Revision ID: 0029
Revises: 0028
"""

import sqlalchemy as sa
from alembic import op

from cityos.store.engine import JSONDoc

revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("datahub_quality_runs") as batch:
        batch.add_column(sa.Column("department", sa.String(128), nullable=True))
        batch.add_column(sa.Column("trigger", sa.String(16), nullable=True))
        batch.add_column(sa.Column("by", sa.String(128), nullable=True))
        batch.add_column(sa.Column("feed_run", sa.String(32), nullable=True))
    with op.batch_alter_table("datahub_quality_failures") as batch:
        batch.add_column(sa.Column("item_values", JSONDoc, nullable=True))
    op.create_index("ix_datahub_quality_runs_department", "datahub_quality_runs", ["tenant", "department", "at_ms"])


def downgrade() -> None:
    op.drop_index("ix_datahub_quality_runs_department", table_name="datahub_quality_runs")
    with op.batch_alter_table("datahub_quality_failures") as batch:
        batch.drop_column("item_values")
    with op.batch_alter_table("datahub_quality_runs") as batch:
        batch.drop_column("feed_run")
        batch.drop_column("by")
        batch.drop_column("trigger")
        batch.drop_column("department")
