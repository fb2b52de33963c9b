"""The notification outbox keeps one row per batch of notifications (``id``, ``notifications``: a JSON
array of them) instead of one row per notification: a notifier's store and removal cost a statement per batch, not
per notification. Pending notifications move into one row, in sending order.

Revision ID: 0052
Revises: 0051
"""

import json
import time

import sqlalchemy as sa
from alembic import op

revision = "0052"
down_revision = "0051"
branch_labels = None
depends_on = None

TABLE = "context_notification_outbox"
FIELDS = ("tenant", "subscription_id", "notification_id", "seq", "entity_id", "entity", "event_time")


def _old_table(meta: sa.MetaData) -> sa.Table:
    return sa.Table(
        TABLE,
        meta,
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("subscription_id", sa.String(512), nullable=False),
        sa.Column("notification_id", sa.String(64), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("entity_id", sa.String(512), nullable=False),
        sa.Column("entity", sa.Text(), nullable=False),
        sa.Column("event_time", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("tenant", "subscription_id", "notification_id", name="pk_context_notification_outbox"),
    )


def upgrade() -> None:
    bind = op.get_bind()
    old = _old_table(sa.MetaData())
    rows = bind.execute(sa.select(old).order_by(old.c.seq)).all()
    op.drop_table(TABLE)
    new = op.create_table(
        TABLE,
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False, autoincrement=False),
        sa.Column("notifications", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_context_notification_outbox"),
    )
    if rows:
        items = [[getattr(r, f) for f in FIELDS] for r in rows]
        op.bulk_insert(new, [{"id": time.time_ns() // 1000, "notifications": json.dumps(items)}])


def downgrade() -> None:
    bind = op.get_bind()
    meta = sa.MetaData()
    new = sa.Table(TABLE, meta, sa.Column("id", sa.BigInteger()), sa.Column("notifications", sa.Text()))
    rows = bind.execute(sa.select(new).order_by(new.c.id)).all()
    op.drop_table(TABLE)
    old = _old_table(sa.MetaData())
    old.create(bind)
    items = {tuple(i[:3]): dict(zip(FIELDS, i, strict=True)) for r in rows for i in json.loads(r.notifications)}
    if items:
        op.bulk_insert(old, list(items.values()))
