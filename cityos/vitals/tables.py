"""Tables of the vitals package: definitions (every version kept), values, warnings and their history."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Float, Index, Integer, String, Table, Text

from cityos.store import JSONDoc, metadata

indicators = Table(
    "vitals_indicators",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("id", String(64), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("definition", JSONDoc, nullable=False),
    Column("created_at", String(32), nullable=False),
    Column("created_by", String(128), nullable=True),
    Column("retired", Integer, nullable=False, default=0),  # 1: removed from the live set at this version
)

values = Table(
    "vitals_values",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("indicator", String(64), primary_key=True),
    Column("scope", String(512), primary_key=True),  # a unit, grid or street id, "district" or "polygon"
    Column("at_ms", BigInteger, primary_key=True),
    Column("value", Float, nullable=True),
    Column("level", Integer, nullable=False),
    Column("filling", Float, nullable=True),  # the window was still filling: how full (0..1); null: full
)

warnings = Table(
    "vitals_warnings",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("tenant", String(64), nullable=False),
    Column("indicator", String(64), nullable=False),
    Column("scope", String(512), nullable=False),
    Column("level", Integer, nullable=False),  # 1 蓝 … 4 红; the level now (the last one when cleared)
    Column("peak_level", Integer, nullable=False),
    Column("value", Float, nullable=True),  # the value that made the last change
    Column("active", Integer, nullable=False),  # 1 until cleared
    Column("raised_at", String(32), nullable=False),
    Column("updated_at", String(32), nullable=False),
    Column("cleared_at", String(32), nullable=True),
    Column("acknowledged_by", String(128), nullable=True),
    Column("acknowledged_at", String(32), nullable=True),
)
Index("ix_vitals_warnings_active", warnings.c.tenant, warnings.c.indicator, warnings.c.scope, warnings.c.active)

warning_events = Table(
    "vitals_warning_events",
    metadata,
    Column("warning_id", String(36), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("at", String(32), nullable=False),
    Column("kind", String(16), nullable=False),  # raised | escalated | de-escalated | cleared | acknowledged | comment
    Column("old_level", Integer, nullable=True),
    Column("new_level", Integer, nullable=True),
    Column("value", Float, nullable=True),
    Column("actor", String(128), nullable=True),
    Column("text", Text, nullable=True),
)

# The pre-warnings in force: what the latest forecast of each group says it will reach (趋势研判预警).
prewarnings = Table(
    "vitals_prewarnings",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("indicator", String(64), primary_key=True),
    Column("scope", String(512), primary_key=True),
    Column("level", Integer, primary_key=True),  # the level the forecast reaches
    Column("expected_at", String(32), nullable=False),  # when it first reaches it
    Column("probability", Float, nullable=False),  # how likely the value is past the threshold then
    Column("method", String(32), nullable=False),
    Column("issued_at", String(32), nullable=False),  # the forecast that said so
)
