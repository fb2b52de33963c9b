"""An index of cases by minimum management unit, for a unit's digital twin.

Revision ID: 0012
Revises: 0011
"""

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_cases_unit", "cases_cases", ["tenant", "unit", "created_at_ms"])


def downgrade() -> None:
    op.drop_index("ix_cases_unit", table_name="cases_cases")
