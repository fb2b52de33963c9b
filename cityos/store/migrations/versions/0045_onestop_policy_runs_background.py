"""Policy matching runs in the background (the onestop role's runner): onestop_policy_runs gains ``read`` (the
records read so far: progress), ``holder`` (the process working on the run) and ``attempts`` (how many times a
process took it: a run left by a process that died is taken again, and failed after a few).

Revision ID: 0045
Revises: 0044
"""

import sqlalchemy as sa
from alembic import op

revision = "0045"
down_revision = "0044"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("onestop_policy_runs", sa.Column("read", sa.Integer(), nullable=False, server_default="0"))
    op.add_column("onestop_policy_runs", sa.Column("holder", sa.String(32), nullable=True))
    op.add_column("onestop_policy_runs", sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("onestop_policy_runs") as batch:
        batch.drop_column("attempts")
        batch.drop_column("holder")
        batch.drop_column("read")
