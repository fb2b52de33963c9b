"""The tables of once-only evidence (两个免于提交): one row per material of an application (keyed by the
application's id, an opaque string, and the material's code, so that they join the applications' tables),
its history, appended, never changed, and the files uploaded.

Uploaded files are kept in the database (``onestop_uploads.content``), not under the data directory: API
nodes scale out behind one PostgreSQL and share no disk, a file and its evidence row are written in one
transaction (no orphan file, no row without its file), and the backup of the database is the backup of
the materials. The size limit (``CITYOS_ONESTOP_UPLOAD_MAX_BYTES``, 5 MiB by default) keeps rows small.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, Integer, LargeBinary, String, Table, Text

from cityos.store import JSONDoc, metadata

evidence = Table(
    "onestop_evidence",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("application_id", String(64), primary_key=True),
    Column("material_code", String(64), primary_key=True),
    Column("material_name", String(256), nullable=False),
    Column("source", String(16), nullable=False),  # registry | certificate | upload
    Column("applicant_kind", String(16), nullable=False),  # person | enterprise
    Column("applicant", String(64), nullable=False),  # the applicant's registry key (ID number, credit code)
    Column("department", String(64), nullable=True),  # the implementing department that fetched it
    Column("state", String(16), nullable=False),  # previewed | confirmed | declined | uploaded
    Column("code", String(64), nullable=True),  # the catalogue entry fetched from
    Column("grant_id", String(32), nullable=True),
    Column("audit_seq", BigInteger, nullable=True),  # the audit record of the fetch
    Column("fetched", JSONDoc, nullable=True),  # the values as fetched (masked as the grant says)
    Column("content_hash", String(64), nullable=True),  # SHA-256 of the values' canonical JSON, or of the file
    Column("fetched_at_ms", BigInteger, nullable=True),
    Column("declined_at_ms", BigInteger, nullable=True),  # set once declined: never fetched again
    Column("created_at_ms", BigInteger, nullable=False),
    Column("updated_at_ms", BigInteger, nullable=False),
    Column("version", Integer, nullable=False),  # the number of steps taken
)
Index("ix_onestop_evidence_state", evidence.c.tenant, evidence.c.state)

evidence_history = Table(
    "onestop_evidence_history",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("application_id", String(64), primary_key=True),
    Column("material_code", String(64), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("at_ms", BigInteger, nullable=False),
    Column("action", String(16), nullable=False),
    Column("by", String(256), nullable=False),
    Column("from_state", String(16), nullable=True),
    Column("to_state", String(16), nullable=False),
    Column("audit_seq", BigInteger, nullable=True),
    Column("reason", Text, nullable=True),
)

uploads = Table(
    "onestop_uploads",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("application_id", String(64), primary_key=True),
    Column("material_code", String(64), primary_key=True),
    Column("filename", String(256), nullable=False),
    Column("content_type", String(64), nullable=False),
    Column("size", Integer, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("content", LargeBinary, nullable=False),
    Column("uploaded_at_ms", BigInteger, nullable=False),
    Column("by", String(256), nullable=False),
)
