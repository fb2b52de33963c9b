"""Tables of the cases package: the append-only history of every case, one row per case as it is now, and
one row per duplicate report with its reporter's follow token.

``cases_events`` is the record: nothing in it is changed or deleted. ``cases_cases`` is a projection of
it, rewritten with each event, that queries (queues, duplicates, timers, Open311) read.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Float, Index, Integer, String, Table, Text, text

from cityos.cases.workflow import HELD
from cityos.store import JSONDoc, metadata

cases = Table(
    "cases_cases",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("id", String(32), primary_key=True),
    Column("state", String(16), nullable=False),
    Column("source", String(16), nullable=False),  # hotline | inspector | open311 | sensor | alert | app
    Column("category", String(64), nullable=False),  # the sub-category code (= Open311 service_code)
    Column("main_category", String(64), nullable=False),
    Column("priority", String(8), nullable=False),
    Column("text", Text, nullable=False),
    Column("address", String(512), nullable=True),
    Column("lon", Float, nullable=True),
    Column("lat", Float, nullable=True),
    Column("grid", String(256), nullable=True),
    Column("street", String(256), nullable=True),
    Column("unit", String(256), nullable=True),
    Column("placement", JSONDoc, nullable=True),  # how unit, grid and street were found (or why not)
    Column("department", String(64), nullable=True),  # the lead department (主办)
    Column("cooperating", JSONDoc, nullable=False),  # 协办 departments
    Column("reporter", JSONDoc, nullable=True),  # name, phone, email, account_id, device_id: never shown publicly
    Column("follow_token", String(64), nullable=False),  # the reporter follows and rates the case with it
    Column("attachments", JSONDoc, nullable=False),  # photo and file URLs
    Column("classification", JSONDoc, nullable=True),  # the classifier's prediction, when it chose the category
    Column("needs_confirmation", Integer, nullable=False),  # 1: a dispatcher must confirm the category
    Column("origin", String(256), nullable=True),  # what opened it automatically: "warning:<id>", "alert:<id>"
    Column("routing", JSONDoc, nullable=True),  # the rule that chose the department, and why
    Column("time_limit", String(16), nullable=True),
    Column("due_at_ms", BigInteger, nullable=True),
    Column("remind_at_ms", BigInteger, nullable=True),
    Column("next_escalation_ms", BigInteger, nullable=True),
    Column("approximate", Integer, nullable=False),  # 1: the working-day calendar of those years was a guess
    Column("escalation_level", String(16), nullable=False),
    Column("reminded", Integer, nullable=False),
    Column("reports", Integer, nullable=False),  # reports linked to it: itself and its duplicates
    Column("returns", Integer, nullable=False),
    Column("reopens", Integer, nullable=False),
    Column("rating", Integer, nullable=True),
    Column("result", Text, nullable=True),
    Column("merged_into", String(32), nullable=True),
    Column("parent", String(32), nullable=True),  # the case this one was split from
    Column("created_at_ms", BigInteger, nullable=False),
    Column("updated_at_ms", BigInteger, nullable=False),
    Column("handled_at_ms", BigInteger, nullable=True),
    Column("closed_at_ms", BigInteger, nullable=True),
    Column("version", Integer, nullable=False),  # the number of events: a write expects the one it read
)
QUEUE_STATES = tuple(str(s) for s in HELD)  # what a department has to work on
QUEUED_SQL = "state IN (" + ", ".join(f"'{s}'" for s in QUEUE_STATES) + ")"
Index("ix_cases_queue", cases.c.tenant, cases.c.department, cases.c.state, cases.c.due_at_ms)
# a department's queue, the soonest due first, read straight off an index of the queued cases only
Index(
    "ix_cases_queued",
    cases.c.tenant,
    cases.c.department,
    cases.c.due_at_ms,
    cases.c.id,
    sqlite_where=text(QUEUED_SQL),
    postgresql_where=text(QUEUED_SQL),
)
Index("ix_cases_category_open", cases.c.tenant, cases.c.category, cases.c.state, cases.c.created_at_ms)
Index("ix_cases_created", cases.c.tenant, cases.c.created_at_ms)
Index("ix_cases_unit", cases.c.tenant, cases.c.unit, cases.c.created_at_ms)  # a unit's twin lists its cases
Index("ix_cases_due", cases.c.tenant, cases.c.state, cases.c.next_escalation_ms)
Index("ix_cases_origin", cases.c.tenant, cases.c.origin, unique=True)
Index("ix_cases_follow", cases.c.follow_token, unique=True)

events = Table(
    "cases_events",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("case_id", String(32), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("at", String(40), nullable=False),
    Column("action", String(32), nullable=False),
    Column("actor", String(128), nullable=False),
    Column("role", String(16), nullable=False),
    Column("reason", Text, nullable=True),
    Column("data", JSONDoc, nullable=False),
    Column("from_state", String(16), nullable=True),
    Column("to_state", String(16), nullable=False),
)

# A report linked to an open case as its duplicate: its reporter's own follow token. With it they follow the
# case and rate their own report once the case is closed; they neither confirm nor rate the case itself, which
# are its first reporter's. Who they are stays in the history event that recorded the report (``seq``).
reports = Table(
    "cases_reports",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("case_id", String(32), primary_key=True),
    Column("seq", Integer, primary_key=True),  # the case's history event that recorded the report
    Column("follow_token", String(64), nullable=False),
    Column("rating", Integer, nullable=True),  # the reporter's rating of how their report was handled
    Column("created_at_ms", BigInteger, nullable=False),
)
Index("ix_cases_reports_follow", reports.c.follow_token, unique=True)

corrections = Table(
    "cases_corrections",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("tenant", String(64), nullable=False),
    Column("case_id", String(32), nullable=False),
    Column("text", Text, nullable=False),
    Column("predicted", String(64), nullable=True),
    Column("confirmed", String(64), nullable=False),
    Column("by", String(128), nullable=False),
    Column("at", String(40), nullable=False),
)
