"""The data resource system's tables. Other packages never touch them: they call cityos.datahub.

Grants (授权共享): ``datahub_grants`` holds one row per grant as it is now (the stored state: an approved
grant whose end has come is expired without a write, see ``cityos.datahub.workflow.state_at``), and
``datahub_grant_history`` every move made on it (who, for which department, when, why, from which state to
which, what changed), appended to and never edited.

The audit log (``datahub_audit``) is one hash chain over every tenant: each row's ``hash`` is SHA-256 over its
canonical JSON and the hash before it (``prev``); ``datahub_audit_head`` holds the chain's newest seq and
hash (the row a writer locks on PostgreSQL), ``datahub_audit_seals`` the Ed25519-signed heads, and
``datahub_audit_subjects`` the keyed hashes of the persons and enterprises each read touched, for "who used
my data". Rows of the log are appended, never changed.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Float, Index, Integer, String, Table, Text

from cityos.datahub import (  # noqa: F401  (declared beside, migrated with these)
    feed_tables,
    objection_tables,
    resolution_tables,
    return_tables,
)
from cityos.store import PK, JSONDoc, metadata

# The current version of each catalogue entry, with the columns the catalogue is searched by.
catalogue_entries = Table(
    "datahub_entries",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("code", String(64), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("provider", String(128), nullable=False),
    Column("classification", String(512), nullable=False),  # the path joined with "/", e.g. 基础信息/人口/户籍
    Column("sharing", String(16), nullable=False),
    Column("opening", String(16), nullable=False),
    Column("level", String(64), nullable=True),  # the dataset's level: its most protected item's
    Column("search", Text, nullable=False),  # name, abstract and item names, lower case, for free text
    Column("entry", JSONDoc, nullable=False),  # the entry as JSON (cityos.datahub.entries.to_doc)
    Column("updated_at", String(32), nullable=False),
)
Index("ix_datahub_entries_provider", catalogue_entries.c.tenant, catalogue_entries.c.provider)

# Every version of every entry, appended, never changed: who made it, when and why.
entry_versions = Table(
    "datahub_entry_versions",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("code", String(64), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("entry", JSONDoc, nullable=False),
    Column("changed_by", String(128), nullable=False),
    Column("changed_at", String(32), nullable=False),
    Column("reason", Text, nullable=False),
)

# One data, one source (一数一源): the department that is the source of each data item, and its entry.
item_sources = Table(
    "datahub_item_sources",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("item_key", String(256), primary_key=True),
    Column("department", String(128), nullable=False),
    Column("code", String(64), nullable=False),  # the entry that registered the source
    Column("item", String(128), nullable=False),  # the item's name in that entry
)
Index("ix_datahub_item_sources_code", item_sources.c.tenant, item_sources.c.code)


grants = Table(
    "datahub_grants",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("id", String(32), primary_key=True),
    Column("code", String(64), nullable=False),  # the catalogue entry
    Column("provider", String(64), nullable=False),  # the entry's provider when the grant was requested
    Column("department", String(64), nullable=False),  # who reads through it
    Column("scenario", String(256), nullable=False),
    Column("purpose", Text, nullable=False),
    Column("legal_basis", Text, nullable=False),
    Column("items", JSONDoc, nullable=True),  # the item names granted; null: the whole entry
    Column("starts_at", String(40), nullable=False),  # ISO instants, to the millisecond
    Column("ends_at", String(40), nullable=False),
    Column("starts_at_ms", BigInteger, nullable=False),
    Column("ends_at_ms", BigInteger, nullable=False),  # an approved grant is expired from this instant on
    Column("lifts", String(32), nullable=True),  # the highest level shown unmasked; null: the default
    Column("state", String(16), nullable=False),  # requested | approved | refused | revoked
    Column("requested_by", String(128), nullable=False),
    Column("created_at_ms", BigInteger, nullable=False),
    Column("updated_at_ms", BigInteger, nullable=False),
    Column("version", Integer, nullable=False),  # the number of moves: a write expects the one it read
)
Index("ix_datahub_grants_reader", grants.c.tenant, grants.c.department, grants.c.code)
Index("ix_datahub_grants_provider", grants.c.tenant, grants.c.provider, grants.c.state)
Index("ix_datahub_grants_code", grants.c.tenant, grants.c.code, grants.c.state)

grant_history = Table(
    "datahub_grant_history",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("grant_id", String(32), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("at", String(40), nullable=False),
    Column("action", String(16), nullable=False),
    Column("by", String(128), nullable=False),
    Column("by_department", String(64), nullable=True),
    Column("reason", Text, nullable=True),
    Column("from_state", String(16), nullable=True),
    Column("to_state", String(16), nullable=False),
    Column("changes", JSONDoc, nullable=False),  # a request: what was asked; a narrow: field -> {from, to}
)


audit = Table(
    "datahub_audit",
    metadata,
    Column("seq", PK, primary_key=True, autoincrement=False),
    Column("tenant", String(64), nullable=False),
    Column("at_ms", BigInteger, nullable=False),
    Column("principal", String(128), nullable=False),
    Column("department", String(64), nullable=True),
    Column("grant_id", String(64), nullable=True),
    Column("code", String(64), nullable=False),  # the catalogue entry read
    Column("route", String(256), nullable=False),  # the API it was read through
    Column("scenario", String(256), nullable=True),
    Column("purpose", String(512), nullable=True),
    Column("count", Integer, nullable=False),  # records read
    Column("records", Text, nullable=False),  # a JSON array of the records' ids, as hashed
    Column("subjects", Text, nullable=False),  # a JSON array of the subjects' keyed hashes, as hashed
    Column("prev", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
)
# an entry's reads by a department: whether it read a record (objections), who read a record (notices)
Index("ix_datahub_audit_reads", audit.c.tenant, audit.c.code, audit.c.department)

audit_head = Table(
    "datahub_audit_head",
    metadata,
    Column("chain", String(16), primary_key=True),
    Column("seq", BigInteger, nullable=False),
    Column("hash", String(64), nullable=False),
    Column("sealed_seq", BigInteger, nullable=False),
    Column("sealed_at_ms", BigInteger, nullable=False),
    # how far datahub_audit_subjects reaches: the index is brought up to the head off the reads' path
    Column("subjects_seq", BigInteger, nullable=False, server_default="0"),
)

# What changes whenever an access decision may change (an entry registered or changed, a grant requested or
# moved): row 1, its counter bumped in the same transaction as the change. A process keeps its decisions
# against the counter it read (cityos.datahub.decisions), and the audit append of a read checks it. Row 2 is
# the same for the open objections (one filed or moved), which a process keeps to flag the records it reads.
governance_stamp = Table(
    "datahub_governance_stamp",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("n", BigInteger, nullable=False),
)

audit_seals = Table(
    "datahub_audit_seals",
    metadata,
    Column("seq", PK, primary_key=True, autoincrement=False),  # the chain's seq it seals
    Column("hash", String(64), nullable=False),  # the record's hash at that seq
    Column("at_ms", BigInteger, nullable=False),
    Column("key_id", String(32), nullable=False),  # the first 32 hex of SHA-256 of the raw public key
    Column("signature", String(128), nullable=False),  # Ed25519, hex
)

audit_subjects = Table(
    "datahub_audit_subjects",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("subject", String(64), primary_key=True),  # keyed BLAKE2b-256 of the ID number or credit code, hex
    Column("seq", BigInteger, primary_key=True),
    sqlite_with_rowid=False,  # the key is the table: one B-tree to insert into, not a table and an index
)


# Quality runs (数据质量检测): one row per run of a dataset's rules, its results per rule, and the failing
# records with their reasons. Written once per run, never changed.
quality_runs = Table(
    "datahub_quality_runs",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("id", String(32), primary_key=True),
    Column("code", String(64), nullable=False),  # the dataset (catalogue entry) checked
    Column("at", String(40), nullable=False),  # when the run was made, ISO instant (timeliness is measured from it)
    Column("at_ms", BigInteger, nullable=False),
    Column("records", Integer, nullable=False),
    Column("score", Float, nullable=True),  # null: nothing was checked
    Column("dimensions", JSONDoc, nullable=False),  # dimension -> score
    Column("department", String(128), nullable=True),  # the dataset's provider when the run was made
    Column("trigger", String(16), nullable=True),  # api | feed | schedule (null: a direct call)
    Column("by", String(128), nullable=True),  # who started it (the principal, or the feed run's pusher)
    Column("feed_run", String(32), nullable=True),  # the feed run whose records were checked
)
Index("ix_datahub_quality_runs_code", quality_runs.c.tenant, quality_runs.c.code, quality_runs.c.at_ms)
Index("ix_datahub_quality_runs_department", quality_runs.c.tenant, quality_runs.c.department, quality_runs.c.at_ms)

quality_results = Table(
    "datahub_quality_results",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("run_id", String(32), primary_key=True),
    Column("rule", String(100), primary_key=True),
    Column("seq", Integer, nullable=False),  # the rule's place in its file
    Column("dimension", String(16), nullable=False),
    Column("checked", Integer, nullable=False),
    Column("failed", Integer, nullable=False),
)

quality_failures = Table(
    "datahub_quality_failures",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("run_id", String(32), primary_key=True),
    Column("seq", Integer, primary_key=True),  # the order the run found them in, rule by rule
    Column("rule", String(100), nullable=False),
    Column("record", String(256), nullable=False),  # the failing record's key
    Column("reason", Text, nullable=False),
    Column("item_values", JSONDoc, nullable=True),  # the rule's items' values in the record: masked when read
)
Index("ix_datahub_quality_failures_rule", quality_failures.c.tenant, quality_failures.c.run_id, quality_failures.c.rule)

# declared beside, migrated with these: where feed runs settled earlier conflicts (cityos.datahub.feed_conflicts)
from cityos.datahub import feed_conflict_tables  # noqa: E402, F401
