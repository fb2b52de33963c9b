"""Each report linked to a case as a duplicate gets its reporter's own follow token (cases_reports).

Revision ID: 0016
Revises: 0015
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cases_reports",
        sa.Column("tenant", sa.String(64), primary_key=True),
        sa.Column("case_id", sa.String(32), primary_key=True),
        sa.Column("seq", sa.Integer(), primary_key=True),
        sa.Column("follow_token", sa.String(64), nullable=False),
        sa.Column("rating", sa.Integer(), nullable=True),
        sa.Column("created_at_ms", sa.BigInteger(), nullable=False),
    )
    op.create_index("ix_cases_reports_follow", "cases_reports", ["follow_token"], unique=True)


def downgrade() -> None:
    op.drop_index("ix_cases_reports_follow", table_name="cases_reports")
    op.drop_table("cases_reports")
