"""Cases keep their placement: how the unit, grid and street were found (coordinates, address, named by the
reporter) or why the report is unplaced.

Revision ID: 0030
Revises: 0029
"""

import sqlalchemy as sa
from alembic import op

from cityos.store.engine import JSONDoc

revision = "0030"
down_revision = "0029"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cases_cases") as batch:
        batch.add_column(sa.Column("placement", JSONDoc, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("cases_cases") as batch:
        batch.drop_column("placement")
