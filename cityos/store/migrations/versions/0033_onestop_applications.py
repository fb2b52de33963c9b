"""One-stop services' applications (办件): onestop_submissions (one per bundle or single item submitted, unique
per applicant and idempotency key), onestop_applications (one per item, its state and legal clock) and
onestop_application_history (every move made on one).

Revision ID: 0033
Revises: 0032
"""

import sqlalchemy as sa
from alembic import op

from cityos.store.engine import JSONDoc

revision = "0033"
down_revision = "0032"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "onestop_submissions",
        sa.Column("tenant", sa.String(64), primary_key=True),
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("applicant_kind", sa.String(16), nullable=False),
        sa.Column("applicant", sa.String(64), nullable=False),
        sa.Column("bundle", sa.String(64), nullable=True),
        sa.Column("item", sa.String(64), nullable=True),
        sa.Column("answers", JSONDoc, nullable=False),
        sa.Column("idempotency_key", sa.String(128), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("created_at_ms", sa.BigInteger(), nullable=False),
    )
    op.create_index("ux_onestop_submissions_idempotency", "onestop_submissions",
                    ["tenant", "applicant_kind", "applicant", "idempotency_key"], unique=True)  # fmt: skip
    op.create_table(
        "onestop_applications",
        sa.Column("tenant", sa.String(64), primary_key=True),
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("submission_id", sa.String(32), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("item_code", sa.String(64), nullable=False),
        sa.Column("item_version", sa.Integer(), nullable=False),
        sa.Column("item_name", sa.String(256), nullable=False),
        sa.Column("department", sa.String(64), nullable=False),
        sa.Column("applicant_kind", sa.String(16), nullable=False),
        sa.Column("applicant", sa.String(64), nullable=False),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("promised_days", sa.Integer(), nullable=False),
        sa.Column("legal_days", sa.Integer(), nullable=False),
        sa.Column("received_at_ms", sa.BigInteger(), nullable=True),
        sa.Column("promised_due_ms", sa.BigInteger(), nullable=True),
        sa.Column("legal_due_ms", sa.BigInteger(), nullable=True),
        sa.Column("paused_ms", sa.BigInteger(), nullable=False),
        sa.Column("paused_since_ms", sa.BigInteger(), nullable=True),
        sa.Column("decided_at_ms", sa.BigInteger(), nullable=True),
        sa.Column("reasons", sa.Text(), nullable=True),
        sa.Column("created_at_ms", sa.BigInteger(), nullable=False),
        sa.Column("updated_at_ms", sa.BigInteger(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
    )
    op.create_index("ix_onestop_applications_queue", "onestop_applications",
                    ["tenant", "department", "state", "created_at_ms"])  # fmt: skip
    op.create_index("ix_onestop_applications_submission", "onestop_applications", ["tenant", "submission_id"])
    op.create_table(
        "onestop_application_history",
        sa.Column("tenant", sa.String(64), primary_key=True),
        sa.Column("application_id", sa.String(32), primary_key=True),
        sa.Column("seq", sa.Integer(), primary_key=True),
        sa.Column("at_ms", sa.BigInteger(), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("actor", sa.String(256), nullable=False),
        sa.Column("actor_department", sa.String(64), nullable=True),
        sa.Column("from_state", sa.String(32), nullable=True),
        sa.Column("to_state", sa.String(32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("onestop_application_history")
    op.drop_index("ix_onestop_applications_submission", "onestop_applications")
    op.drop_index("ix_onestop_applications_queue", "onestop_applications")
    op.drop_table("onestop_applications")
    op.drop_index("ux_onestop_submissions_idempotency", "onestop_submissions")
    op.drop_table("onestop_submissions")
