"""The vitals package: indicator definitions, values, warnings and their history.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "vitals_indicators",
        sa.Column("tenant", sa.String(64), primary_key=True),
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("version", sa.Integer(), primary_key=True),
        sa.Column("definition", _JSON, nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("created_by", sa.String(128), nullable=True),
        sa.Column("retired", sa.Integer(), nullable=False),
    )
    op.create_table(
        "vitals_values",
        sa.Column("tenant", sa.String(64), primary_key=True),
        sa.Column("indicator", sa.String(64), primary_key=True),
        sa.Column("scope", sa.String(512), primary_key=True),
        sa.Column("at_ms", sa.BigInteger(), primary_key=True),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("level", sa.Integer(), nullable=False),
    )
    op.create_table(
        "vitals_warnings",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("indicator", sa.String(64), nullable=False),
        sa.Column("scope", sa.String(512), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("peak_level", sa.Integer(), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("active", sa.Integer(), nullable=False),
        sa.Column("raised_at", sa.String(32), nullable=False),
        sa.Column("updated_at", sa.String(32), nullable=False),
        sa.Column("cleared_at", sa.String(32), nullable=True),
        sa.Column("acknowledged_by", sa.String(128), nullable=True),
        sa.Column("acknowledged_at", sa.String(32), nullable=True),
    )
    op.create_index("ix_vitals_warnings_active", "vitals_warnings", ["tenant", "indicator", "scope", "active"])
    op.create_table(
        "vitals_warning_events",
        sa.Column("warning_id", sa.String(36), primary_key=True),
        sa.Column("seq", sa.Integer(), primary_key=True),
        sa.Column("at", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("old_level", sa.Integer(), nullable=True),
        sa.Column("new_level", sa.Integer(), nullable=True),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("actor", sa.String(128), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("vitals_warning_events")
    op.drop_index("ix_vitals_warnings_active", table_name="vitals_warnings")
    op.drop_table("vitals_warnings")
    op.drop_table("vitals_values")
    op.drop_table("vitals_indicators")
