"""The attribute history keeps every accepted change: a sequence number joins the key, so that two changes
of one attribute in the same millisecond are two rows (telemetry replays stay one row, sequence 0).

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

OLD_KEY = ["tenant", "entity_id", "attr", "dataset_id", "ts"]


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":  # partitioned: the key is changed on the parent
        op.execute("ALTER TABLE context_attr_history ADD COLUMN seq bigint NOT NULL DEFAULT 0")
        op.execute("ALTER TABLE context_attr_history DROP CONSTRAINT pk_context_attr_history")
        op.execute(
            "ALTER TABLE context_attr_history ADD CONSTRAINT pk_context_attr_history "
            "PRIMARY KEY (tenant, entity_id, attr, dataset_id, ts, seq)"
        )
        return
    with op.batch_alter_table("context_attr_history", recreate="always") as batch:
        batch.add_column(sa.Column("seq", sa.BigInteger(), nullable=False, server_default="0"))
        batch.drop_constraint("pk_context_attr_history", type_="primary")
        batch.create_primary_key("pk_context_attr_history", [*OLD_KEY, "seq"])


def downgrade() -> None:
    # rows of one key but different sequence numbers cannot all stay: the newest of each is kept
    op.execute(
        "DELETE FROM context_attr_history AS h WHERE EXISTS (SELECT 1 FROM context_attr_history AS n WHERE "
        "n.tenant = h.tenant AND n.entity_id = h.entity_id AND n.attr = h.attr AND n.dataset_id = h.dataset_id "
        "AND n.ts = h.ts AND n.seq > h.seq)"
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE context_attr_history DROP CONSTRAINT pk_context_attr_history")
        op.execute(
            "ALTER TABLE context_attr_history ADD CONSTRAINT pk_context_attr_history "
            "PRIMARY KEY (tenant, entity_id, attr, dataset_id, ts)"
        )
        op.execute("ALTER TABLE context_attr_history DROP COLUMN seq")
        return
    with op.batch_alter_table("context_attr_history", recreate="always") as batch:
        batch.drop_constraint("pk_context_attr_history", type_="primary")
        batch.create_primary_key("pk_context_attr_history", OLD_KEY)
        batch.drop_column("seq")
