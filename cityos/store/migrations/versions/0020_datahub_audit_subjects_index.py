"""The audit chain's subjects index is kept behind the chain: the head remembers how far it reaches.

A read appends its record (with its subjects' keyed hashes) to the chain; the index of subjects that "who
used my data" looks up is brought up to ``subjects_seq`` afterwards, off the read's path.

Revision ID: 0020
Revises: 0019
"""

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("datahub_audit_head") as batch:
        batch.add_column(sa.Column("subjects_seq", sa.BigInteger(), nullable=False, server_default="0"))
    # the index was written with every append until now: it reaches as far as the chain
    op.execute("UPDATE datahub_audit_head SET subjects_seq = seq")


def downgrade() -> None:
    with op.batch_alter_table("datahub_audit_head") as batch:
        batch.drop_column("subjects_seq")
