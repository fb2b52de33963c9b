"""Staff accounts: a password (scrypt hash) per principal that may log in, with its lockout state.

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "auth_passwords",
        sa.Column("principal_pk", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("password_hash", sa.String(256), nullable=False),
        sa.Column("updated_at", sa.String(32), nullable=False),
        sa.Column("failed_count", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("locked_until", sa.String(32), nullable=True),
        sa.ForeignKeyConstraint(
            ["principal_pk"],
            ["auth_principals.pk"],
            name=op.f("fk_auth_passwords_principal_pk_auth_principals"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("principal_pk", name=op.f("pk_auth_passwords")),
    )


def downgrade() -> None:
    op.drop_table("auth_passwords")
