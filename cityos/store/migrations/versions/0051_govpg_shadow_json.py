"""What an entity keeps beside its state (``context_entities.shadow``) is JSON text on PostgreSQL (``json``, no
longer ``jsonb``): the server sends it as it was written instead of rendering it, and its members keep their
order. The docs kept before are of the previous shape (cityos.datahub.shadows, MASKS_VERSION 1) and are left
out: the next governed read of each row makes and keeps its doc again. SQLite keeps JSON as text already.

Revision ID: 0051
Revises: 0050
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0051"
down_revision = "0050"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # dropped and added again rather than altered: both change only the catalogue, where a change of type would
    # rewrite every row of the table under an exclusive lock
    if op.get_bind().dialect.name == "postgresql":
        op.drop_column("context_entities", "shadow")
        op.add_column("context_entities", sa.Column("shadow", sa.JSON(), nullable=True))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_column("context_entities", "shadow")
        op.add_column("context_entities", sa.Column("shadow", postgresql.JSONB(astext_type=sa.Text()), nullable=True))
