"""Attribute history: one row per attribute instance change; PostgreSQL partitions it by month.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        # Declarative partitioning by ts (epoch ms); cityos.context.temporal.history creates month partitions
        # before writing into them. The default partition catches anything older or unforeseen.
        op.execute(
            """
            CREATE TABLE context_attr_history (
                tenant varchar(64) NOT NULL,
                entity_id varchar(512) NOT NULL,
                attr varchar(512) NOT NULL,
                dataset_id varchar(512) NOT NULL,
                ts bigint NOT NULL,
                instance jsonb NOT NULL,
                written_at varchar(32) NOT NULL,
                CONSTRAINT pk_context_attr_history PRIMARY KEY (tenant, entity_id, attr, dataset_id, ts)
            ) PARTITION BY RANGE (ts)
            """
        )
        op.execute("CREATE TABLE context_attr_history_default PARTITION OF context_attr_history DEFAULT")
        return
    op.create_table(
        "context_attr_history",
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("entity_id", sa.String(512), nullable=False),
        sa.Column("attr", sa.String(512), nullable=False),
        sa.Column("dataset_id", sa.String(512), nullable=False),
        sa.Column("ts", sa.BigInteger(), nullable=False),
        sa.Column("instance", sa.JSON(), nullable=False),
        sa.Column("written_at", sa.String(32), nullable=False),
        sa.PrimaryKeyConstraint("tenant", "entity_id", "attr", "dataset_id", "ts", name="pk_context_attr_history"),
    )


def downgrade() -> None:
    op.drop_table("context_attr_history")
