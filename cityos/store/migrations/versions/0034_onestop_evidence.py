"""Once-only evidence (两个免于提交): onestop_evidence, one row per material of an application as it is now,
onestop_evidence_history, every step taken on it, and onestop_uploads, the files applicants upload.

Revision ID: 0034
Revises: 0033
"""

import sqlalchemy as sa
from alembic import op

from cityos.store.engine import JSONDoc

revision = "0034"
down_revision = "0033"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "onestop_evidence",
        sa.Column("tenant", sa.String(64), primary_key=True),
        sa.Column("application_id", sa.String(64), primary_key=True),
        sa.Column("material_code", sa.String(64), primary_key=True),
        sa.Column("material_name", sa.String(256), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("applicant_kind", sa.String(16), nullable=False),
        sa.Column("applicant", sa.String(64), nullable=False),
        sa.Column("department", sa.String(64), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("code", sa.String(64), nullable=True),
        sa.Column("grant_id", sa.String(32), nullable=True),
        sa.Column("audit_seq", sa.BigInteger(), nullable=True),
        sa.Column("fetched", JSONDoc, nullable=True),
        sa.Column("content_hash", sa.String(64), nullable=True),
        sa.Column("fetched_at_ms", sa.BigInteger(), nullable=True),
        sa.Column("declined_at_ms", sa.BigInteger(), nullable=True),
        sa.Column("created_at_ms", sa.BigInteger(), nullable=False),
        sa.Column("updated_at_ms", sa.BigInteger(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
    )
    op.create_index("ix_onestop_evidence_state", "onestop_evidence", ["tenant", "state"])
    op.create_table(
        "onestop_evidence_history",
        sa.Column("tenant", sa.String(64), primary_key=True),
        sa.Column("application_id", sa.String(64), primary_key=True),
        sa.Column("material_code", sa.String(64), primary_key=True),
        sa.Column("seq", sa.Integer(), primary_key=True),
        sa.Column("at_ms", sa.BigInteger(), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("by", sa.String(256), nullable=False),
        sa.Column("from_state", sa.String(16), nullable=True),
        sa.Column("to_state", sa.String(16), nullable=False),
        sa.Column("audit_seq", sa.BigInteger(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
    )
    op.create_table(
        "onestop_uploads",
        sa.Column("tenant", sa.String(64), primary_key=True),
        sa.Column("application_id", sa.String(64), primary_key=True),
        sa.Column("material_code", sa.String(64), primary_key=True),
        sa.Column("filename", sa.String(256), nullable=False),
        sa.Column("content_type", sa.String(64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("uploaded_at_ms", sa.BigInteger(), nullable=False),
        sa.Column("by", sa.String(256), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("onestop_uploads")
    op.drop_table("onestop_evidence_history")
    op.drop_index("ix_onestop_evidence_state", "onestop_evidence")
    op.drop_table("onestop_evidence")
