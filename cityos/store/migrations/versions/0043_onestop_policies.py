"""Policy matching (政策找人 · 免申即享): onestop_policy_runs, the runs of a policy over a base registry;
onestop_policy_notices, one notice per policy version and subject (unique: a rerun notifies no one twice);
onestop_policy_grants, the benefits granted when a person confirms, with the matching inputs.

Revision ID: 0043
Revises: 0042
"""

import sqlalchemy as sa
from alembic import op

from cityos.store.engine import JSONDoc

revision = "0043"
down_revision = "0042"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "onestop_policy_runs",
        sa.Column("tenant", sa.String(64), primary_key=True),
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("policy_code", sa.String(64), nullable=False),
        sa.Column("policy_version", sa.Integer(), nullable=False),
        sa.Column("department", sa.String(64), nullable=False),
        sa.Column("by", sa.String(256), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("subjects", sa.Integer(), nullable=False),
        sa.Column("matched", sa.Integer(), nullable=False),
        sa.Column("notified", sa.Integer(), nullable=False),
        sa.Column("audit_seqs", JSONDoc, nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("started_at_ms", sa.BigInteger(), nullable=False),
        sa.Column("finished_at_ms", sa.BigInteger(), nullable=True),
    )
    op.create_index("ix_onestop_policy_runs_policy", "onestop_policy_runs", ["tenant", "policy_code", "started_at_ms"])
    op.create_table(
        "onestop_policy_notices",
        sa.Column("tenant", sa.String(64), primary_key=True),
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("policy_code", sa.String(64), nullable=False),
        sa.Column("policy_version", sa.Integer(), nullable=False),
        sa.Column("subject_kind", sa.String(16), nullable=False),
        sa.Column("subject_id", sa.String(256), nullable=False),
        sa.Column("run_id", sa.String(32), nullable=False),
        sa.Column("mode", sa.String(16), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("inputs", JSONDoc, nullable=False),
        sa.Column("created_at_ms", sa.BigInteger(), nullable=False),
        sa.Column("decided_at_ms", sa.BigInteger(), nullable=True),
        sa.Column("decided_by", sa.String(256), nullable=True),
    )
    op.create_index("ux_onestop_policy_notices_subject", "onestop_policy_notices",
                    ["tenant", "policy_code", "policy_version", "subject_id"], unique=True)  # fmt: skip
    op.create_index("ix_onestop_policy_notices_inbox", "onestop_policy_notices", ["tenant", "subject_id"])
    op.create_table(
        "onestop_policy_grants",
        sa.Column("tenant", sa.String(64), primary_key=True),
        sa.Column("notice_id", sa.String(32), primary_key=True),
        sa.Column("policy_code", sa.String(64), nullable=False),
        sa.Column("policy_version", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.String(256), nullable=False),
        sa.Column("department", sa.String(64), nullable=False),
        sa.Column("benefit", sa.Text(), nullable=False),
        sa.Column("inputs", JSONDoc, nullable=False),
        sa.Column("run_id", sa.String(32), nullable=False),
        sa.Column("confirmed_by", sa.String(256), nullable=False),
        sa.Column("granted_at_ms", sa.BigInteger(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("onestop_policy_grants")
    op.drop_index("ix_onestop_policy_notices_inbox", "onestop_policy_notices")
    op.drop_index("ux_onestop_policy_notices_subject", "onestop_policy_notices")
    op.drop_table("onestop_policy_notices")
    op.drop_index("ix_onestop_policy_runs_policy", "onestop_policy_runs")
    op.drop_table("onestop_policy_runs")
