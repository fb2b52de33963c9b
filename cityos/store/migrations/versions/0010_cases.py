"""The cases package: case history (append-only), the case as it is now, and category corrections.

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

from cityos.store.engine import JSONDoc

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cases_cases",
        sa.Column("tenant", sa.String(64), primary_key=True),
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("category", sa.String(64), nullable=False),
        sa.Column("main_category", sa.String(64), nullable=False),
        sa.Column("priority", sa.String(8), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("address", sa.String(512), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("grid", sa.String(256), nullable=True),
        sa.Column("street", sa.String(256), nullable=True),
        sa.Column("unit", sa.String(256), nullable=True),
        sa.Column("department", sa.String(64), nullable=True),
        sa.Column("cooperating", JSONDoc, nullable=False),
        sa.Column("reporter", JSONDoc, nullable=True),
        sa.Column("follow_token", sa.String(64), nullable=False),
        sa.Column("attachments", JSONDoc, nullable=False),
        sa.Column("classification", JSONDoc, nullable=True),
        sa.Column("needs_confirmation", sa.Integer(), nullable=False),
        sa.Column("origin", sa.String(256), nullable=True),
        sa.Column("routing", JSONDoc, nullable=True),
        sa.Column("time_limit", sa.String(16), nullable=True),
        sa.Column("due_at_ms", sa.BigInteger(), nullable=True),
        sa.Column("remind_at_ms", sa.BigInteger(), nullable=True),
        sa.Column("next_escalation_ms", sa.BigInteger(), nullable=True),
        sa.Column("approximate", sa.Integer(), nullable=False),
        sa.Column("escalation_level", sa.String(16), nullable=False),
        sa.Column("reminded", sa.Integer(), nullable=False),
        sa.Column("reports", sa.Integer(), nullable=False),
        sa.Column("returns", sa.Integer(), nullable=False),
        sa.Column("reopens", sa.Integer(), nullable=False),
        sa.Column("rating", sa.Integer(), nullable=True),
        sa.Column("result", sa.Text(), nullable=True),
        sa.Column("merged_into", sa.String(32), nullable=True),
        sa.Column("parent", sa.String(32), nullable=True),
        sa.Column("created_at_ms", sa.BigInteger(), nullable=False),
        sa.Column("updated_at_ms", sa.BigInteger(), nullable=False),
        sa.Column("handled_at_ms", sa.BigInteger(), nullable=True),
        sa.Column("closed_at_ms", sa.BigInteger(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
    )
    op.create_index("ix_cases_queue", "cases_cases", ["tenant", "department", "state", "due_at_ms"])
    queued = sa.text("state IN ('dispatched', 'accepted', 'in_progress', 'suspended')")
    op.create_index(
        "ix_cases_queued",
        "cases_cases",
        ["tenant", "department", "due_at_ms", "id"],
        sqlite_where=queued,
        postgresql_where=queued,
    )
    op.create_index("ix_cases_category_open", "cases_cases", ["tenant", "category", "state", "created_at_ms"])
    op.create_index("ix_cases_created", "cases_cases", ["tenant", "created_at_ms"])
    op.create_index("ix_cases_due", "cases_cases", ["tenant", "state", "next_escalation_ms"])
    op.create_index("ix_cases_origin", "cases_cases", ["tenant", "origin"], unique=True)
    op.create_index("ix_cases_follow", "cases_cases", ["follow_token"], unique=True)
    op.create_table(
        "cases_events",
        sa.Column("tenant", sa.String(64), primary_key=True),
        sa.Column("case_id", sa.String(32), primary_key=True),
        sa.Column("seq", sa.Integer(), primary_key=True),
        sa.Column("at", sa.String(40), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("data", JSONDoc, nullable=False),
        sa.Column("from_state", sa.String(16), nullable=True),
        sa.Column("to_state", sa.String(16), nullable=False),
    )
    op.create_table(
        "cases_corrections",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("case_id", sa.String(32), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("predicted", sa.String(64), nullable=True),
        sa.Column("confirmed", sa.String(64), nullable=False),
        sa.Column("by", sa.String(128), nullable=False),
        sa.Column("at", sa.String(40), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("cases_corrections")
    op.drop_table("cases_events")
    op.drop_table("cases_cases")
