"""E-certificates (电子证照): onestop_seals, each issuing office's Ed25519 seal key (the private key encrypted)
and the next free index of its status lists; onestop_credentials, every credential issued (the holders'
wallets) with its status; onestop_credential_history, every status move made on one.

Revision ID: 0036
Revises: 0035
"""

import sqlalchemy as sa
from alembic import op

from cityos.store.engine import JSONDoc

revision = "0036"
down_revision = "0035"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "onestop_seals",
        sa.Column("tenant", sa.String(64), primary_key=True),
        sa.Column("department", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("public_key", sa.String(64), nullable=False),
        sa.Column("private_key", sa.Text(), nullable=False),
        sa.Column("next_index", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.String(40), nullable=False),
    )
    op.create_table(
        "onestop_credentials",
        sa.Column("tenant", sa.String(64), primary_key=True),
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("holder", sa.String(128), nullable=False),
        sa.Column("certificate_type", sa.String(64), nullable=False),
        sa.Column("issuer", sa.String(64), nullable=False),
        sa.Column("status_index", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("valid_from", sa.String(40), nullable=False),
        sa.Column("valid_until", sa.String(40), nullable=True),
        sa.Column("issued_at_ms", sa.BigInteger(), nullable=False),
        sa.Column("document", JSONDoc, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
    )
    op.create_index("ux_onestop_credentials_status", "onestop_credentials", ["tenant", "issuer", "status_index"],
                    unique=True)  # fmt: skip
    op.create_index("ix_onestop_credentials_holder", "onestop_credentials", ["tenant", "holder"])
    op.create_table(
        "onestop_credential_history",
        sa.Column("tenant", sa.String(64), primary_key=True),
        sa.Column("credential_id", sa.String(64), primary_key=True),
        sa.Column("seq", sa.Integer(), primary_key=True),
        sa.Column("at", sa.String(40), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("by", sa.String(256), nullable=False),
        sa.Column("by_department", sa.String(64), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("from_state", sa.String(16), nullable=True),
        sa.Column("to_state", sa.String(16), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("onestop_credential_history")
    op.drop_index("ix_onestop_credentials_holder", "onestop_credentials")
    op.drop_index("ux_onestop_credentials_status", "onestop_credentials")
    op.drop_table("onestop_credentials")
    op.drop_table("onestop_seals")
