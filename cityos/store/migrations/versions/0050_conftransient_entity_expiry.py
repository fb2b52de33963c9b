"""Transient entities (NGSI-LD 4.22): context_entities gains ``expires_at``, the entity's expiresAt in the
stored form (None: a durable entity, as every entity before this revision), indexed for the reaper.

Revision ID: 0048
Revises: 0047
"""

import sqlalchemy as sa
from alembic import op

revision = "0050"
down_revision = "0049"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("context_entities", sa.Column("expires_at", sa.String(32), nullable=True))
    op.create_index("ix_context_entities_expires", "context_entities", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_context_entities_expires", table_name="context_entities")
    with op.batch_alter_table("context_entities") as batch:
        batch.drop_column("expires_at")
