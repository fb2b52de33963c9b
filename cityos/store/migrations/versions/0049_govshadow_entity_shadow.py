"""Each entity keeps values derived from its state beside it (the datahub's masked values, a read's audit
subjects), with a version every write of the state moves, so that what is kept never outlives the state.

Revision ID: 0048
Revises: 0047
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0049"
down_revision = "0048"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # the entities stored before have nothing kept (a governed read derives it again) and version 0
    doc = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
    op.add_column("context_entities", sa.Column("shadow", doc, nullable=True))
    op.add_column("context_entities", sa.Column("version", sa.BigInteger(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("context_entities") as batch:
        batch.drop_column("version")
        batch.drop_column("shadow")
