"""The tables of objections (数据异议纠错). Other packages never touch them: they call cityos.datahub.

``datahub_objections`` holds one row per objection as it is now; ``datahub_objection_history`` every move
made on it, appended and never edited; ``datahub_objection_notices`` what each department that read a value
later corrected is told (one row per department and objection).
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, Integer, String, Table, Text

from cityos.store import JSONDoc, metadata

objections = Table(
    "datahub_objections",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("id", String(32), primary_key=True),
    Column("code", String(64), nullable=False),  # the catalogue entry
    Column("record_id", String(256), nullable=False),  # the record (an NGSI-LD entity id)
    Column("item", String(128), nullable=False),  # the data item objected to
    Column("source", String(64), nullable=False),  # the item's one source department (一数一源)
    Column("objector", String(64), nullable=False),  # the department that objects
    Column("objector_principal", String(128), nullable=False),
    Column("read_seq", BigInteger, nullable=False),  # the audit record of the objector's read of the record
    Column("evidence", Text, nullable=False),
    Column("value", JSONDoc, nullable=True),  # the value objected to, as the hub held it
    Column("proposed", JSONDoc, nullable=True),  # the value the objector believes right
    Column("corrected", JSONDoc, nullable=True),  # the value the source put in its place
    Column("state", String(16), nullable=False),  # submitted | verifying | corrected | rejected | withdrawn
    Column("reason", Text, nullable=True),  # the last move's reason (a rejection's, a withdrawal's)
    Column("created_at_ms", BigInteger, nullable=False),
    Column("due_at_ms", BigInteger, nullable=False),  # the source's time limit, on the working-day calendar
    Column("closed_at_ms", BigInteger, nullable=True),
    Column("updated_at_ms", BigInteger, nullable=False),
    Column("version", Integer, nullable=False),  # the number of moves: a write expects the one it read
)
Index("ix_datahub_objections_record", objections.c.tenant, objections.c.record_id, objections.c.state)
Index("ix_datahub_objections_source", objections.c.tenant, objections.c.source, objections.c.state)
Index("ix_datahub_objections_objector", objections.c.tenant, objections.c.objector, objections.c.state)

objection_history = Table(
    "datahub_objection_history",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("objection_id", String(32), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("at", String(40), nullable=False),
    Column("action", String(16), nullable=False),
    Column("by", String(128), nullable=False),
    Column("by_department", String(64), nullable=True),
    Column("reason", Text, nullable=True),
    Column("from_state", String(16), nullable=True),
    Column("to_state", String(16), nullable=False),
    Column("changes", JSONDoc, nullable=False),
)

objection_notices = Table(
    "datahub_objection_notices",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("department", String(64), primary_key=True),  # who read the value corrected
    Column("objection_id", String(32), primary_key=True),
    Column("code", String(64), nullable=False),
    Column("record_id", String(256), nullable=False),
    Column("item", String(128), nullable=False),
    Column("before", JSONDoc, nullable=True),
    Column("after", JSONDoc, nullable=True),
    Column("last_read_seq", BigInteger, nullable=False),  # its newest read of the record before the correction
    Column("at_ms", BigInteger, nullable=False),
)
Index("ix_datahub_objection_notices_at", objection_notices.c.tenant, objection_notices.c.department,
      objection_notices.c.at_ms)  # fmt: skip
