"""Where a feed run settled an earlier conflict of its department's (数据归集 · 冲突): a value offered again for
an item another department is the source of, this time agreeing with what the registry holds. Only the
pairs (record, item) an earlier run of the department found in conflict are written, so a large run that
agrees everywhere writes nothing. Written once, with the run, never changed."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, Integer, String, Table

from cityos.datahub.feed_tables import feed_conflicts
from cityos.store import metadata

feed_agreements = Table(
    "datahub_feed_agreements",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("run_id", String(32), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("department", String(128), nullable=False),  # who offered the agreeing value (the run's department)
    Column("record", String(64), nullable=False),  # the record key (the ID number)
    Column("attribute", String(128), nullable=False),  # the registry attribute (person.<attribute>)
    Column("source", String(128), nullable=False),  # the item's one source
    Column("at_ms", BigInteger, nullable=False),  # when the run was stored
)
Index("ix_datahub_feed_agreements_source", feed_agreements.c.tenant, feed_agreements.c.source)
# the source's conflict list reads the conflicts of one source department
Index("ix_datahub_feed_conflicts_source", feed_conflicts.c.tenant, feed_conflicts.c.source)
