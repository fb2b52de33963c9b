"""Tables of the iot package."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Float, Index, Integer, LargeBinary, String, Table, Text

from cityos.store import JSONDoc, metadata

device_groups = Table(
    "iot_device_groups",
    metadata,
    Column("apikey", String(128), primary_key=True),
    Column("tenant", String(64), nullable=False),
    Column("name", String(256), nullable=False),
    Column("department", String(128), nullable=False),
    Column("created_at", String(32), nullable=False),
)

devices = Table(
    "iot_devices",
    metadata,
    Column("device_id", String(256), primary_key=True),
    Column("apikey", String(128), nullable=False),
    Column("tenant", String(64), nullable=False),
    Column("device_type", String(128), nullable=False),
    Column("entity_id", String(512), nullable=False),
    Column("entity_type", String(256), nullable=False),
    Column("department", String(128), nullable=False),
    Column("measures", JSONDoc, nullable=False),
    Column("protocol", String(8), nullable=False),
    Column("timeout_s", Integer, nullable=False),
    Column("lon", Float, nullable=True),
    Column("lat", Float, nullable=True),
    Column("grid", String(512), nullable=True),
    Column("unit", String(512), nullable=True),
    Column("created_at", String(32), nullable=False),
    Column("updated_at", String(32), nullable=False),
    # health: written by the ingest's health flush, not by provisioning
    Column("last_seen", String(32), nullable=True),
    Column("online", Boolean, nullable=True),
    Column("battery", Float, nullable=True),
    Column("signal", Float, nullable=True),
    Index("ix_iot_devices_updated", "updated_at"),
    Index("ix_iot_devices_type_grid", "device_type", "grid"),
)

dead_letters = Table(
    "iot_dead_letters",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("received_at", String(32), nullable=False),
    Column("transport", String(8), nullable=False),
    Column("fmt", String(8), nullable=False),
    Column("apikey", String(128), nullable=False),
    Column("device_id", String(256), nullable=False),
    Column("device_type", String(128), nullable=True),
    Column("topic", String(512), nullable=True),
    Column("reason_code", String(32), nullable=False),
    Column("reason", Text, nullable=False),
    Column("payload", LargeBinary, nullable=False),
    Column("replayed_at", String(32), nullable=True),  # set once a replay was accepted
    Index("ix_iot_dead_letters_received", "received_at"),
)

commands = Table(
    "iot_commands",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("device_id", String(256), nullable=False),
    Column("name", String(128), nullable=False),
    Column("value", JSONDoc, nullable=True),
    Column("status", String(16), nullable=False),  # pending | sent | ok | error | expired
    Column("created_at", String(32), nullable=False),
    Column("created_by", String(256), nullable=True),
    Column("sent_at", String(32), nullable=True),
    Column("answered_at", String(32), nullable=True),
    Column("expires_at", String(32), nullable=False),
    Column("result", JSONDoc, nullable=True),
    Index("ix_iot_commands_device", "device_id", "created_at"),
    Index("ix_iot_commands_status", "status", "expires_at"),
)
