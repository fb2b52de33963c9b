"""The applications' tables (开放申请, issue 19 item 6): one row per application as it is now (an approved one
whose period has ended is expired without a write), and its history, appended, never changed."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, Integer, String, Table, Text

from cityos.store import JSONDoc, metadata

applications = Table(
    "opendata_applications",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("id", String(32), primary_key=True),
    Column("code", String(64), nullable=False),  # the catalogue entry of the dataset
    Column("name", String(64), nullable=False),  # the dataset's name on the portal
    Column("provider", String(64), nullable=False),  # the entry's provider when it was applied for
    Column("applicant_kind", String(16), nullable=False),  # person | enterprise
    Column("applicant", String(256), nullable=False),
    Column("contact", String(256), nullable=False),
    Column("organisation", String(256), nullable=True),
    Column("purpose", Text, nullable=False),
    Column("scenario", String(512), nullable=False),
    Column("state", String(16), nullable=False),  # submitted | approved | refused | revoked
    Column("terms", Text, nullable=True),
    Column("ends_at", String(40), nullable=True),
    Column("ends_at_ms", BigInteger, nullable=True),
    Column("key_hash", String(64), nullable=False),  # SHA-256 of the key; the key is never stored
    Column("created_at_ms", BigInteger, nullable=False),
    Column("updated_at_ms", BigInteger, nullable=False),
    Column("version", Integer, nullable=False),  # the number of moves: a write expects the one it read
)
Index("ux_opendata_applications_key", applications.c.key_hash, unique=True)
Index("ix_opendata_applications_provider", applications.c.tenant, applications.c.provider, applications.c.state)

application_history = Table(
    "opendata_application_history",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("application_id", String(32), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("at", String(40), nullable=False),
    Column("action", String(16), nullable=False),
    Column("by", String(256), nullable=False),
    Column("by_department", String(64), nullable=True),
    Column("reason", Text, nullable=True),
    Column("from_state", String(16), nullable=True),
    Column("to_state", String(16), nullable=False),
    Column("changes", JSONDoc, nullable=False),
)
