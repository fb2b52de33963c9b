"""The audit chain's long columns (a read's record ids and its subjects' keyed hashes, ~100 kB for a page of
1,000 records) are compressed with LZ4 on PostgreSQL, where the server offers it (PostgreSQL 14 and later built
with lz4): pglz spent most of a governed read's audit append compressing them. Values are the same; only how
PostgreSQL stores new ones changes (those written before stay as they are). Nothing on SQLite.

Revision ID: 0037
Revises: 0036
"""

import sqlalchemy as sa
from alembic import op

revision = "0037"
down_revision = "0036"
branch_labels = None
depends_on = None

COLUMNS = ("records", "subjects")


def _lz4() -> bool:
    """Whether this PostgreSQL server compresses TOAST values with lz4."""
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return False
    found = bind.execute(sa.text("SELECT enumvals FROM pg_settings WHERE name = 'default_toast_compression'")).scalar()
    return found is not None and "lz4" in found


def _compress(method: str) -> None:
    if _lz4():
        columns = ", ".join(f"ALTER COLUMN {c} SET COMPRESSION {method}" for c in COLUMNS)
        op.execute(f"ALTER TABLE datahub_audit {columns}")


def upgrade() -> None:
    _compress("lz4")


def downgrade() -> None:
    _compress("DEFAULT")
