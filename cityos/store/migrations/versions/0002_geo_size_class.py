"""Geo index: bounding boxes by size class, one covering index.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# Must agree with cityos.context.geo.SIZE_CLASSES.
_CLASS = """CASE
  WHEN max(max_x - min_x, max_y - min_y) <= 0.001 THEN 0
  WHEN max(max_x - min_x, max_y - min_y) <= 0.01 THEN 1
  WHEN max(max_x - min_x, max_y - min_y) <= 0.1 THEN 2
  WHEN max(max_x - min_x, max_y - min_y) <= 1.0 THEN 3
  ELSE 4 END"""


def upgrade() -> None:
    with op.batch_alter_table("context_entity_geo") as batch:
        batch.add_column(sa.Column("size_class", sa.SmallInteger(), nullable=False, server_default="4"))
        batch.drop_index("ix_context_entity_geo_tenant_attr_min_x")
    bigger = "max" if op.get_bind().dialect.name == "sqlite" else "greatest"
    op.execute(f"UPDATE context_entity_geo SET size_class = {_CLASS.replace('max(', bigger + '(')}")
    with op.batch_alter_table("context_entity_geo") as batch:  # no default: a writer must classify
        batch.alter_column("size_class", server_default=None)
    op.create_index(
        "ix_context_entity_geo_box",
        "context_entity_geo",
        ["tenant", "attr", "size_class", "min_x", "min_y", "max_x", "max_y", "entity_pk"],
    )


def downgrade() -> None:
    op.drop_index("ix_context_entity_geo_box", table_name="context_entity_geo")
    with op.batch_alter_table("context_entity_geo") as batch:
        batch.drop_column("size_class")
        batch.create_index("ix_context_entity_geo_tenant_attr_min_x", ["tenant", "attr", "min_x"])
