"""The data resource system's audit chain: the hash-chained log of reads, its head, seals and subjects.

Revision ID: 0019
Revises: 0018
"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

PK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "datahub_audit",
        sa.Column("seq", PK, primary_key=True, autoincrement=False),
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("at_ms", sa.BigInteger(), nullable=False),
        sa.Column("principal", sa.String(128), nullable=False),
        sa.Column("department", sa.String(64), nullable=True),
        sa.Column("grant_id", sa.String(64), nullable=True),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("route", sa.String(256), nullable=False),
        sa.Column("scenario", sa.String(256), nullable=True),
        sa.Column("purpose", sa.String(512), nullable=True),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("records", sa.Text(), nullable=False),
        sa.Column("subjects", sa.Text(), nullable=False),
        sa.Column("prev", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    op.create_table(
        "datahub_audit_head",
        sa.Column("chain", sa.String(16), primary_key=True),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("sealed_seq", sa.BigInteger(), nullable=False),
        sa.Column("sealed_at_ms", sa.BigInteger(), nullable=False),
    )
    op.create_table(
        "datahub_audit_seals",
        sa.Column("seq", PK, primary_key=True, autoincrement=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("at_ms", sa.BigInteger(), nullable=False),
        sa.Column("key_id", sa.String(32), nullable=False),
        sa.Column("signature", sa.String(128), nullable=False),
    )
    op.create_table(
        "datahub_audit_subjects",
        sa.Column("tenant", sa.String(64), primary_key=True),
        sa.Column("subject", sa.String(64), primary_key=True),
        sa.Column("seq", sa.BigInteger(), primary_key=True),
        sqlite_with_rowid=False,
    )


def downgrade() -> None:
    for table in ("datahub_audit_subjects", "datahub_audit_seals", "datahub_audit_head", "datahub_audit"):
        op.drop_table(table)
