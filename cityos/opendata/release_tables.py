"""The releases' table: one row per check of a release of an entry (de-identification gate, issue 19 item 5),
passed or blocked, appended and never changed; a blocked release fixed and checked again is a new version."""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, Integer, String, Table, Text

from cityos.store import metadata

releases = Table(
    "opendata_releases",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("code", String(64), primary_key=True),  # the catalogue entry
    Column("version", Integer, primary_key=True),  # 1, 2, … per entry
    Column("entry_version", Integer, nullable=False),  # the catalogue entry's version the records are of
    Column("at", String(40), nullable=False),
    Column("at_ms", BigInteger, nullable=False),
    Column("by", String(128), nullable=False),
    Column("passed", Boolean, nullable=False),
    Column("records", Integer, nullable=False),
    Column("content_hash", String(64), nullable=False),  # SHA-256 of the released records (deidentify.content_hash)
    Column("policy", Text, nullable=False),  # the entry's policy as applied, JSON
    Column("result", Text, nullable=False),  # the checks' findings and the treatments, JSON
)

from cityos.opendata import application_tables, usage_tables  # noqa: E402, F401  (declared beside, migrated with these)
