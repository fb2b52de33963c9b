"""Objections (数据异议纠错): datahub_objections, their history and the notices of corrections; an index of
the audit chain by entry and department, so that "did this department read this record" and "who read this
record" look at that entry's reads only.

Revision ID: 0023
Revises: 0022
"""

import sqlalchemy as sa
from alembic import op

from cityos.store.engine import JSONDoc

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "datahub_objections",
        sa.Column("tenant", sa.String(64), primary_key=True),
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("record_id", sa.String(256), nullable=False),
        sa.Column("item", sa.String(128), nullable=False),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("objector", sa.String(64), nullable=False),
        sa.Column("objector_principal", sa.String(128), nullable=False),
        sa.Column("read_seq", sa.BigInteger(), nullable=False),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.Column("value", JSONDoc, nullable=True),
        sa.Column("proposed", JSONDoc, nullable=True),
        sa.Column("corrected", JSONDoc, nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("created_at_ms", sa.BigInteger(), nullable=False),
        sa.Column("due_at_ms", sa.BigInteger(), nullable=False),
        sa.Column("closed_at_ms", sa.BigInteger(), nullable=True),
        sa.Column("updated_at_ms", sa.BigInteger(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
    )
    op.create_index("ix_datahub_objections_record", "datahub_objections", ["tenant", "record_id", "state"])
    op.create_index("ix_datahub_objections_source", "datahub_objections", ["tenant", "source", "state"])
    op.create_index("ix_datahub_objections_objector", "datahub_objections", ["tenant", "objector", "state"])
    op.create_table(
        "datahub_objection_history",
        sa.Column("tenant", sa.String(64), primary_key=True),
        sa.Column("objection_id", sa.String(32), primary_key=True),
        sa.Column("seq", sa.Integer(), primary_key=True),
        sa.Column("at", sa.String(40), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("by", sa.String(128), nullable=False),
        sa.Column("by_department", sa.String(64), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("from_state", sa.String(16), nullable=True),
        sa.Column("to_state", sa.String(16), nullable=False),
        sa.Column("changes", JSONDoc, nullable=False),
    )
    op.create_table(
        "datahub_objection_notices",
        sa.Column("tenant", sa.String(64), primary_key=True),
        sa.Column("department", sa.String(64), primary_key=True),
        sa.Column("objection_id", sa.String(32), primary_key=True),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("record_id", sa.String(256), nullable=False),
        sa.Column("item", sa.String(128), nullable=False),
        sa.Column("before", JSONDoc, nullable=True),
        sa.Column("after", JSONDoc, nullable=True),
        sa.Column("last_read_seq", sa.BigInteger(), nullable=False),
        sa.Column("at_ms", sa.BigInteger(), nullable=False),
    )
    op.create_index("ix_datahub_objection_notices_at", "datahub_objection_notices", ["tenant", "department", "at_ms"])
    op.create_index("ix_datahub_audit_reads", "datahub_audit", ["tenant", "code", "department"])


def downgrade() -> None:
    op.drop_index("ix_datahub_audit_reads", table_name="datahub_audit")
    op.drop_table("datahub_objection_notices")
    op.drop_table("datahub_objection_history")
    op.drop_table("datahub_objections")
