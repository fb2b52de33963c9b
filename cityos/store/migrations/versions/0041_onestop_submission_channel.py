"""A submission keeps its channel (onestop_submissions.channel): online, the applicant's own login; on-site, a
service counter's for them; null for those made before. The plans' online share (网办率) counts it.

Revision ID: 0041
Revises: 0040
"""

import sqlalchemy as sa
from alembic import op

revision = "0041"
down_revision = "0040"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("onestop_submissions") as batch:
        batch.add_column(sa.Column("channel", sa.String(16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("onestop_submissions") as batch:
        batch.drop_column("channel")
