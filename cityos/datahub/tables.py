"""The data resource system's tables. Other packages never touch them: they call cityos.datahub.

The audit log (``datahub_audit``) is one hash chain over every tenant: each row's ``hash`` is SHA-256 over its
canonical JSON and the hash before it (``prev``); ``datahub_audit_head`` holds the chain's newest seq and
hash (the row a writer locks on PostgreSQL), ``datahub_audit_seals`` the Ed25519-signed heads, and
``datahub_audit_subjects`` the keyed hashes of the persons and enterprises each read touched, for "who used
my data". Rows of the log are appended, never changed.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Integer, String, Table, Text

from cityos.store import PK, metadata

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

audit_head = Table(
    "datahub_audit_head",
    metadata,
    Column("chain", String(16), primary_key=True),
    Column("seq", BigInteger, nullable=False),
    Column("hash", String(64), nullable=False),
    Column("sealed_seq", BigInteger, nullable=False),
    Column("sealed_at_ms", BigInteger, nullable=False),
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
