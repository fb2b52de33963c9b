"""The iot package: device groups, devices with their health, dead letters, commands.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "iot_device_groups",
        sa.Column("apikey", sa.String(128), primary_key=True),
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("department", sa.String(128), nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
    )
    op.create_table(
        "iot_devices",
        sa.Column("device_id", sa.String(256), primary_key=True),
        sa.Column("apikey", sa.String(128), nullable=False),
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("device_type", sa.String(128), nullable=False),
        sa.Column("entity_id", sa.String(512), nullable=False),
        sa.Column("entity_type", sa.String(256), nullable=False),
        sa.Column("department", sa.String(128), nullable=False),
        sa.Column("measures", _JSON, nullable=False),
        sa.Column("protocol", sa.String(8), nullable=False),
        sa.Column("timeout_s", sa.Integer(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("grid", sa.String(512), nullable=True),
        sa.Column("unit", sa.String(512), nullable=True),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("updated_at", sa.String(32), nullable=False),
        sa.Column("last_seen", sa.String(32), nullable=True),
        sa.Column("online", sa.Boolean(), nullable=True),
        sa.Column("battery", sa.Float(), nullable=True),
        sa.Column("signal", sa.Float(), nullable=True),
    )
    op.create_index("ix_iot_devices_updated", "iot_devices", ["updated_at"])
    op.create_index("ix_iot_devices_type_grid", "iot_devices", ["device_type", "grid"])
    op.create_table(
        "iot_dead_letters",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("received_at", sa.String(32), nullable=False),
        sa.Column("transport", sa.String(8), nullable=False),
        sa.Column("fmt", sa.String(8), nullable=False),
        sa.Column("apikey", sa.String(128), nullable=False),
        sa.Column("device_id", sa.String(256), nullable=False),
        sa.Column("device_type", sa.String(128), nullable=True),
        sa.Column("topic", sa.String(512), nullable=True),
        sa.Column("reason_code", sa.String(32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("replayed_at", sa.String(32), nullable=True),
    )
    op.create_index("ix_iot_dead_letters_received", "iot_dead_letters", ["received_at"])
    op.create_table(
        "iot_commands",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("device_id", sa.String(256), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("value", _JSON, nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("created_by", sa.String(256), nullable=True),
        sa.Column("sent_at", sa.String(32), nullable=True),
        sa.Column("answered_at", sa.String(32), nullable=True),
        sa.Column("expires_at", sa.String(32), nullable=False),
        sa.Column("result", _JSON, nullable=True),
    )
    op.create_index("ix_iot_commands_device", "iot_commands", ["device_id", "created_at"])
    op.create_index("ix_iot_commands_status", "iot_commands", ["status", "expires_at"])


def downgrade() -> None:
    for table in ("iot_commands", "iot_dead_letters", "iot_devices", "iot_device_groups"):
        op.drop_table(table)
