"""A feed run's pending quality run is taken up again when the process making it stops: the run's records are
kept in datahub_feed_quality_jobs with the claim of the process making it (owner, lease, attempts) until it is
made, and datahub_feed_runs gains ``quality_taken_up`` (when another process took it up). Runs left pending
before this revision kept no records: they stay pending.

Revision ID: 0047
Revises: 0046
"""

import sqlalchemy as sa
from alembic import op

revision = "0047"
down_revision = "0046"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("datahub_feed_runs", sa.Column("quality_taken_up", sa.String(40), nullable=True))
    op.create_table(
        "datahub_feed_quality_jobs",
        sa.Column("tenant", sa.String(64), primary_key=True),
        sa.Column("run_id", sa.String(32), primary_key=True),
        sa.Column("at_ms", sa.BigInteger(), nullable=False),
        sa.Column("owner", sa.String(128), nullable=False),
        sa.Column("lease_ms", sa.BigInteger(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("records", sa.LargeBinary(), nullable=False),
    )
    op.create_index("ix_datahub_feed_quality_jobs_lease", "datahub_feed_quality_jobs", ["lease_ms"])


def downgrade() -> None:
    op.drop_index("ix_datahub_feed_quality_jobs_lease", table_name="datahub_feed_quality_jobs")
    op.drop_table("datahub_feed_quality_jobs")
    with op.batch_alter_table("datahub_feed_runs") as batch:
        batch.drop_column("quality_taken_up")
