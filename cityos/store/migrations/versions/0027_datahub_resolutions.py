"""Entity resolution decisions (实体识别): datahub_resolutions, one row per record resolved, with its decision,
evidence and the settlement of a review decision.

Revision ID: 0027
Revises: 0026
"""

import sqlalchemy as sa
from alembic import op

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "datahub_resolutions",
        sa.Column("tenant", sa.String(64), primary_key=True),
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("run_id", sa.String(32), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("department", sa.String(128), nullable=False),
        sa.Column("provider", sa.String(128), nullable=False),
        sa.Column("model", sa.String(64), nullable=False),
        sa.Column("by", sa.String(128), nullable=False),
        sa.Column("at", sa.String(40), nullable=False),
        sa.Column("at_ms", sa.BigInteger(), nullable=False),
        sa.Column("decision", sa.String(16), nullable=False),
        sa.Column("entity", sa.String(256), nullable=True),
        sa.Column("total", sa.Float(), nullable=True),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.Column("settled", sa.String(16), nullable=True),
        sa.Column("settled_entity", sa.String(256), nullable=True),
        sa.Column("settled_by", sa.String(128), nullable=True),
        sa.Column("settled_at", sa.String(40), nullable=True),
        sa.Column("settled_note", sa.Text(), nullable=True),
    )
    op.create_index("ix_datahub_resolutions_run", "datahub_resolutions", ["tenant", "run_id", "seq"])
    op.create_index("ix_datahub_resolutions_decision", "datahub_resolutions", ["tenant", "decision", "at_ms"])


def downgrade() -> None:
    op.drop_index("ix_datahub_resolutions_decision", "datahub_resolutions")
    op.drop_index("ix_datahub_resolutions_run", "datahub_resolutions")
    op.drop_table("datahub_resolutions")
