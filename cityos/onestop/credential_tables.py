"""The e-certificates' tables (电子证照, issue 20 item 5): the offices' seals (电子印章) with their private keys
encrypted, the issued credentials (the holders' wallets, 证照夹) with their status index and state, and the
history of each credential's status, appended, never changed."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, Integer, String, Table, Text

from cityos.store import JSONDoc, metadata

seals = Table(
    "onestop_seals",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("department", String(64), primary_key=True),
    Column("name", String(256), nullable=False),  # the office's name, as credentials state it
    Column("public_key", String(64), nullable=False),  # Multikey (z6Mk…)
    Column("private_key", Text, nullable=False),  # base64 of AES-256-GCM nonce || ciphertext of the raw key
    Column("next_index", Integer, nullable=False),  # the next free index of the office's status lists
    Column("created_at", String(40), nullable=False),
)

credentials = Table(
    "onestop_credentials",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("id", String(64), primary_key=True),  # urn:uuid:…
    Column("holder", String(128), nullable=False),  # the subject's URN (a registry's keyed id)
    Column("certificate_type", String(64), nullable=False),
    Column("issuer", String(64), nullable=False),  # the issuing department
    Column("status_index", Integer, nullable=False),
    Column("state", String(16), nullable=False),  # active | suspended | revoked
    Column("valid_from", String(40), nullable=False),
    Column("valid_until", String(40), nullable=True),
    Column("issued_at_ms", BigInteger, nullable=False),
    Column("document", JSONDoc, nullable=False),  # the signed credential as issued
    Column("version", Integer, nullable=False),  # the number of status moves: a write expects the one it read
)
Index("ux_onestop_credentials_status", credentials.c.tenant, credentials.c.issuer, credentials.c.status_index,
      unique=True)  # fmt: skip
Index("ix_onestop_credentials_holder", credentials.c.tenant, credentials.c.holder)

credential_history = Table(
    "onestop_credential_history",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("credential_id", String(64), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("at", String(40), nullable=False),
    Column("action", String(16), nullable=False),  # issue | revoke | suspend | reinstate
    Column("by", String(256), nullable=False),
    Column("by_department", String(64), nullable=True),
    Column("reason", Text, nullable=True),
    Column("from_state", String(16), nullable=True),
    Column("to_state", String(16), nullable=False),
)
