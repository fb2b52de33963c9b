"""Tables of the auth package."""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Index, Integer, String, Table

from cityos.store import PK, JSONDoc, metadata

tenants = Table(
    "auth_tenants",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("created_at", String(32), nullable=False),
)

principals = Table(
    "auth_principals",
    metadata,
    Column("pk", PK, primary_key=True, autoincrement=True),
    Column("name", String(128), nullable=False, unique=True),
    Column("kind", String(16), nullable=False),  # department | staff | device | service
    Column("role", String(16), nullable=False),  # admin | operator | department | reader
    Column("tenant", String(64), nullable=True),  # None: every tenant
    Column("attributes", JSONDoc, nullable=False, default=dict),
    Column("created_at", String(32), nullable=False),
)

tokens = Table(
    "auth_tokens",
    metadata,
    Column("token_hash", String(64), primary_key=True),  # sha256 hex of the secret
    Column("principal_pk", PK, ForeignKey("auth_principals.pk", ondelete="CASCADE"), nullable=False),
    Column("label", String(128), nullable=True),
    Column("created_at", String(32), nullable=False),
    Column("expires_at", String(32), nullable=True),
    Column("revoked_at", String(32), nullable=True),
    Index("ix_auth_tokens_principal_pk", "principal_pk"),
)

# A principal with a row here is an account that may log in with a password (cityos.auth.passwords).
passwords = Table(
    "auth_passwords",
    metadata,
    Column("principal_pk", PK, ForeignKey("auth_principals.pk", ondelete="CASCADE"), primary_key=True),
    Column("password_hash", String(256), nullable=False),  # scrypt$n$r$p$salt_b64$hash_b64
    Column("updated_at", String(32), nullable=False),
    # The lockout per account of old, no longer read or written: wrong passwords are counted per account
    # name and client address (cityos.auth.service.LoginFailures), so that nobody can lock an account's owner out.
    Column("failed_count", Integer, nullable=False, default=0, server_default="0"),
    Column("locked_until", String(32), nullable=True),
)
