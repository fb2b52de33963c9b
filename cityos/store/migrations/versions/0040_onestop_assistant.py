"""The Q&A assistant's handovers to a person (转人工): onestop_assistant_handovers.

Revision ID: 0040
Revises: 0039
"""

import sqlalchemy as sa
from alembic import op

revision = "0040"
down_revision = "0039"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "onestop_assistant_handovers",
        sa.Column("tenant", sa.String(64), primary_key=True),
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("question", sa.Text, nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("contact", sa.String(128), nullable=True),
        sa.Column("confidence", sa.Float, nullable=True),
        sa.Column("nearest", sa.String(96), nullable=True),
        sa.Column("department", sa.String(64), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("created_at", sa.String(40), nullable=False),
        sa.Column("created_at_ms", sa.BigInteger, nullable=False),
        sa.Column("answer", sa.Text, nullable=True),
        sa.Column("answered_by", sa.String(256), nullable=True),
        sa.Column("answered_at", sa.String(40), nullable=True),
    )
    op.create_index("ix_onestop_assistant_handovers_queue", "onestop_assistant_handovers",
                    ["tenant", "state", "created_at_ms"])  # fmt: skip


def downgrade() -> None:
    op.drop_index("ix_onestop_assistant_handovers_queue", table_name="onestop_assistant_handovers")
    op.drop_table("onestop_assistant_handovers")
