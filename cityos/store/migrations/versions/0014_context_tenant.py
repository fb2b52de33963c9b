"""A stored @context records the tenant it was stored in: a token limited to another tenant may not delete it.

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("context_jsonld_contexts") as batch:
        batch.add_column(sa.Column("tenant", sa.String(64), nullable=True))
    # contexts stored before: the default tenant's (an administrator of every tenant may still delete them)
    op.execute("UPDATE context_jsonld_contexts SET tenant = 'default' WHERE kind = 'Hosted'")


def downgrade() -> None:
    with op.batch_alter_table("context_jsonld_contexts") as batch:
        batch.drop_column("tenant")
