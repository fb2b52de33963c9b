"""The feed runs' tables (数据归集: departments' feeds into the base registries): one row per run with its
counts, the conflicts it found (a value offered for an item whose source is another department, disagreeing
with what the registry holds: recorded, not applied) and the records it rejected with their reasons.
Written once, at the end of a run; only its quality state changes after (when its quality run is done)."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, Integer, String, Table, Text

from cityos.store import metadata

feed_runs = Table(
    "datahub_feed_runs",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("id", String(32), primary_key=True),
    Column("code", String(64), nullable=False),  # the catalogue entry the feed's records are records of
    Column("department", String(128), nullable=False),  # who fed it
    Column("by", String(128), nullable=False),  # the principal that pushed it
    Column("at", String(40), nullable=False),
    Column("at_ms", BigInteger, nullable=False),
    Column("records", Integer, nullable=False),
    Column("new", Integer, nullable=False),
    Column("changed", Integer, nullable=False),
    Column("unchanged", Integer, nullable=False),
    Column("conflicting", Integer, nullable=False),
    Column("rejected", Integer, nullable=False),
    # the quality run of the run's records, made in the background after the commit: pending | done | failed
    # (null: the entry has no quality rules), and that run once done
    Column("quality", String(16), nullable=True),
    Column("quality_run", String(32), nullable=True),
)
Index("ix_datahub_feed_runs_at", feed_runs.c.tenant, feed_runs.c.at_ms)

feed_conflicts = Table(
    "datahub_feed_conflicts",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("run_id", String(32), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("record", String(64), nullable=False),  # the record key (the ID number): the source looks it up
    Column("entity_id", String(256), nullable=False),
    Column("item", String(128), nullable=False),
    Column("source", String(128), nullable=False),  # the department the stored value comes from (the item's source)
    Column("offered", Text, nullable=False),  # the value the feed offered, as JSON
)

feed_rejections = Table(
    "datahub_feed_rejections",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("run_id", String(32), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("line", Integer, nullable=False),  # the record's line in its file, or its index in the batch
    Column("record", String(64), nullable=True),  # its key, when it had one
    Column("reason", Text, nullable=False),
)
