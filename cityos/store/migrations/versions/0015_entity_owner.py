"""Each entity records the department that owns it: a department's token changes and deletes only its own.

Revision ID: 0015
Revises: 0014
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # entities made before are the city's (no owner) until a device group claims those its devices feed
    with op.batch_alter_table("context_entities") as batch:
        batch.add_column(sa.Column("owner", sa.String(128), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("context_entities") as batch:
        batch.drop_column("owner")
