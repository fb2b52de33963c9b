"""The feed runs' tables (数据归集: departments' feeds into the base registries): one row per run with its
counts, the conflicts it found (a value offered for an item whose source is another department, disagreeing
with what the registry holds: recorded, not applied) and the records it rejected with their reasons.
Written once, at the end of a run; only its quality state changes after (when its quality run is done). While
a run's quality run is pending, its records are kept with the claim of the process that makes it (a lease
renewed while that process lives), so that a live process takes it up when its maker is gone."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, Integer, LargeBinary, String, Table, Text

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
    # when a process other than the one that took the feed took its quality run up (its maker had stopped)
    Column("quality_taken_up", String(40), nullable=True),
)
Index("ix_datahub_feed_runs_at", feed_runs.c.tenant, feed_runs.c.at_ms)

# a feed run's quality run still to be made: the run's records and who makes it, until when (deleted once made)
feed_quality_jobs = Table(
    "datahub_feed_quality_jobs",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("run_id", String(32), primary_key=True),
    Column("at_ms", BigInteger, nullable=False),  # the feed run's: runs are taken up in the order they were fed
    Column("owner", String(128), nullable=False),  # the process making it (cityos.datahub.feed_quality)
    Column("lease_ms", BigInteger, nullable=False),  # held until then, renewed while the owner lives
    Column("attempts", Integer, nullable=False),  # the processes that took it (the feed's own counts as one)
    Column("records", LargeBinary, nullable=False),  # the run's records as fed: zlib-compressed JSON
)
Index("ix_datahub_feed_quality_jobs_lease", feed_quality_jobs.c.lease_ms)

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
