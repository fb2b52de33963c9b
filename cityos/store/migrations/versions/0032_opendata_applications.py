"""Applications for conditional open data (开放申请): opendata_applications, one row per application as it is
now (its key kept only as a SHA-256), and opendata_application_history, every move made on it.

Revision ID: 0032
Revises: 0031
"""

import sqlalchemy as sa
from alembic import op

from cityos.store.engine import JSONDoc

revision = "0032"
down_revision = "0031"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "opendata_applications",
        sa.Column("tenant", sa.String(64), primary_key=True),
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("provider", sa.String(64), nullable=False),
        sa.Column("applicant_kind", sa.String(16), nullable=False),
        sa.Column("applicant", sa.String(256), nullable=False),
        sa.Column("contact", sa.String(256), nullable=False),
        sa.Column("organisation", sa.String(256), nullable=True),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("scenario", sa.String(512), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("terms", sa.Text(), nullable=True),
        sa.Column("ends_at", sa.String(40), nullable=True),
        sa.Column("ends_at_ms", sa.BigInteger(), nullable=True),
        sa.Column("key_hash", sa.String(64), nullable=False),
        sa.Column("created_at_ms", sa.BigInteger(), nullable=False),
        sa.Column("updated_at_ms", sa.BigInteger(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
    )
    op.create_index("ux_opendata_applications_key", "opendata_applications", ["key_hash"], unique=True)
    op.create_index("ix_opendata_applications_provider", "opendata_applications", ["tenant", "provider", "state"])
    op.create_table(
        "opendata_application_history",
        sa.Column("tenant", sa.String(64), primary_key=True),
        sa.Column("application_id", sa.String(32), primary_key=True),
        sa.Column("seq", sa.Integer(), primary_key=True),
        sa.Column("at", sa.String(40), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("by", sa.String(256), nullable=False),
        sa.Column("by_department", sa.String(64), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("from_state", sa.String(16), nullable=True),
        sa.Column("to_state", sa.String(16), nullable=False),
        sa.Column("changes", JSONDoc, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("opendata_application_history")
    op.drop_index("ix_opendata_applications_provider", "opendata_applications")
    op.drop_index("ux_opendata_applications_key", "opendata_applications")
    op.drop_table("opendata_applications")
