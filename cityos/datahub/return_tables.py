"""The district return's tables (数据属地返还): the standing return grants with their watermarks, one row per
run with its counts, and which city records each grant returned at which version (so that an incremental run
skips what it returned already and a full run finds what left the city)."""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, Float, Index, Integer, String, Table, Text

from cityos.store import JSONDoc, metadata

return_grants = Table(
    "datahub_return_grants",
    metadata,
    Column("tenant", String(64), primary_key=True),  # the city tenant the records are read from
    Column("id", String(32), primary_key=True),
    Column("district_tenant", String(64), nullable=False),  # the district's tenant the records go to
    Column("district", String(128), nullable=False),  # the district's name as addresses write it, e.g. 黄浦区
    Column("codes", JSONDoc, nullable=False),  # the catalogue entries returned
    Column("area", JSONDoc, nullable=True),  # the district's polygon (GeoJSON); None: addresses only
    Column("area_entity", String(512), nullable=True),  # the entity the polygon was taken from, if any
    Column("state", String(16), nullable=False),  # standing | ended
    Column("watermark", String(32), nullable=True),  # the newest modifiedAt a run read; None: never run
    Column("made_by", String(128), nullable=False),
    Column("made_at", String(32), nullable=False),
    Column("made_at_ms", BigInteger, nullable=False),
    Column("ended_by", String(128), nullable=True),
    Column("ended_at", String(32), nullable=True),
    Column("reason", Text, nullable=True),  # why it ended
)
Index("ix_datahub_return_grants_district", return_grants.c.tenant, return_grants.c.district_tenant)

return_runs = Table(
    "datahub_return_runs",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("id", String(32), primary_key=True),
    Column("grant_id", String(32), nullable=False),
    Column("district_tenant", String(64), nullable=False),
    Column("by", String(128), nullable=False),
    Column("at", String(32), nullable=False),
    Column("at_ms", BigInteger, nullable=False),
    Column("full", Boolean, nullable=False),
    Column("read", Integer, nullable=False),  # city records read (modified since the watermark; all on a full run)
    Column("new", Integer, nullable=False),
    Column("changed", Integer, nullable=False),
    Column("removed", Integer, nullable=False),
    Column("unchanged", Integer, nullable=False),
    Column("since", String(32), nullable=True),  # the watermark it started from (None: a full run)
    Column("watermark", String(32), nullable=True),  # the watermark it left
    Column("seconds", Float, nullable=False),
)
Index("ix_datahub_return_runs_grant", return_runs.c.tenant, return_runs.c.grant_id, return_runs.c.at_ms)

returned = Table(
    "datahub_returned",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("grant_id", String(32), primary_key=True),
    Column("entity_id", String(512), primary_key=True),
    Column("code", String(64), nullable=False),
    Column("modified_at", String(32), nullable=False),  # the city record's modifiedAt when it was returned
)
