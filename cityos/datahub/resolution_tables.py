"""The entity resolution decisions' table (实体识别): one row per record of a resolution run, with the decision
made (matched, review or new), the entity matched, the match weight and the evidence (each field's level,
weight and values compared, the runner-up); a review decision settled by a person keeps who, when and what.
The decision made is never changed; a settlement is written once."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Float, Index, Integer, String, Table, Text

from cityos.store import metadata

resolutions = Table(
    "datahub_resolutions",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("id", String(32), primary_key=True),
    Column("run_id", String(32), nullable=False),
    Column("seq", Integer, nullable=False),  # the record's place in the run
    Column("line", Integer, nullable=False),  # its line in its file, or its index in the batch
    Column("code", String(64), nullable=False),  # the catalogue entry the records are records of
    Column("department", String(128), nullable=False),  # whose records they are
    Column("provider", String(128), nullable=False),  # the entry's provider when resolved: it sees the decisions
    Column("model", String(64), nullable=False),
    Column("by", String(128), nullable=False),
    Column("at", String(40), nullable=False),
    Column("at_ms", BigInteger, nullable=False),
    Column("decision", String(16), nullable=False),  # matched | review | new
    Column("entity", String(256), nullable=True),  # the entity matched (matched only)
    Column("total", Float, nullable=True),  # the best candidate's match weight
    Column("evidence", Text, nullable=False),  # JSON: the record, why, the best and the runner-up, the scored
    Column("settled", String(16), nullable=True),  # a review decision settled: matched | new
    Column("settled_entity", String(256), nullable=True),
    Column("settled_by", String(128), nullable=True),
    Column("settled_at", String(40), nullable=True),
    Column("settled_note", Text, nullable=True),
)
Index("ix_datahub_resolutions_run", resolutions.c.tenant, resolutions.c.run_id, resolutions.c.seq)
Index("ix_datahub_resolutions_decision", resolutions.c.tenant, resolutions.c.decision, resolutions.c.at_ms)
