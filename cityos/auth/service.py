"""Auth use cases: principals, tokens, tenants. Plain functions over a Database."""

from __future__ import annotations

import hashlib
import re
import secrets
import threading
import time

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from cityos.auth.models import KINDS, ROLES, Principal
from cityos.auth.tables import principals, tenants, tokens
from cityos.context.timefmt import now_iso
from cityos.errors import Forbidden, InvalidInput, Unauthenticated
from cityos.store.engine import Database

TOKEN_PREFIX = "cos_"
_TENANT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_\-]{0,63}$")


def hash_token(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_principal(
    db: Database, name: str, *, role: str, kind: str = "service", tenant: str | None = None
) -> Principal:
    """Create a principal, or return the existing one of that name when role, kind and tenant agree."""
    if role not in ROLES:
        raise InvalidInput(f"role {role!r} is unknown: use one of {', '.join(ROLES)}")
    if kind not in KINDS:
        raise InvalidInput(f"kind {kind!r} is unknown: use one of {', '.join(KINDS)}")
    if tenant is not None:
        check_tenant_name(tenant)
    with db.write() as conn:
        row = conn.execute(select(principals).where(principals.c.name == name)).first()
        if row is None:
            pk = conn.execute(
                insert(principals).values(
                    name=name, kind=kind, role=role, tenant=tenant, attributes={}, created_at=now_iso()
                )
            ).inserted_primary_key[0]
            return Principal(pk, name, kind, role, tenant)
    if (row.role, row.kind, row.tenant) != (role, kind, tenant):
        raise InvalidInput(
            f"principal {name!r} exists with role {row.role}, kind {row.kind}, tenant {row.tenant or '(all)'}: "
            "choose another name"
        )
    return Principal(row.pk, row.name, row.kind, row.role, row.tenant, row.attributes or {})


def issue_token(db: Database, principal: Principal, *, label: str | None = None) -> str:
    """A new bearer token for the principal. Only its hash is stored: show the secret once."""
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with db.write() as conn:
        conn.execute(
            insert(tokens).values(
                token_hash=hash_token(secret), principal_pk=principal.pk, label=label, created_at=now_iso()
            )
        )
    return secret


def create_token(db: Database, name: str, *, role: str, kind: str = "service", tenant: str | None = None) -> str:
    """Create (or reuse) the principal ``name`` and issue it a token: ``cityos token create``."""
    return issue_token(db, create_principal(db, name, role=role, kind=kind, tenant=tenant), label=name)


def revoke_token(db: Database, secret: str) -> bool:
    with db.write() as conn:
        n = conn.execute(
            update(tokens)
            .where(tokens.c.token_hash == hash_token(secret), tokens.c.revoked_at.is_(None))
            .values(revoked_at=now_iso())
        ).rowcount
    _CACHE.clear()
    return bool(n)


class _TokenCache:
    """Recently seen token hashes, so that a busy API does not hit the database on every request.

    Entries live a few seconds: a revoked token stops working within that time in other processes.
    """

    def __init__(self, ttl: float = 10.0, size: int = 10_000) -> None:
        self.ttl, self.size = ttl, size
        self._items: dict[str, tuple[float, Principal]] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> Principal | None:
        item = self._items.get(key)
        if item and item[0] > time.monotonic():
            return item[1]
        return None

    def put(self, key: str, p: Principal) -> None:
        with self._lock:
            if len(self._items) >= self.size:
                self._items.clear()
            self._items[key] = (time.monotonic() + self.ttl, p)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


_CACHE = _TokenCache()


def cached_principal(db: Database, authorization: str | None) -> Principal | None:
    """The principal of a recently seen token, without touching the database; None if not cached."""
    if not authorization or authorization[:7].lower() != "bearer ":
        return None
    return _CACHE.get(db.url + "#" + hash_token(authorization[7:].strip()))


def authenticate(db: Database, authorization: str | None) -> Principal:
    """The principal behind an ``Authorization: Bearer <token>`` header, or Unauthenticated."""
    if not authorization:
        raise Unauthenticated(
            "this API needs a bearer token: send 'Authorization: Bearer <token>' "
            "(create one with 'cityos token create NAME --role ROLE')"
        )
    scheme, _, secret = authorization.partition(" ")
    secret = secret.strip()
    if scheme.lower() != "bearer" or not secret:
        raise Unauthenticated("the Authorization header must be 'Bearer <token>'")
    key = db.url + "#" + hash_token(secret)
    cached = _CACHE.get(key)
    if cached is not None:
        return cached
    with db.connect() as conn:
        row = conn.execute(
            select(principals, tokens.c.expires_at, tokens.c.revoked_at)
            .join(tokens, tokens.c.principal_pk == principals.c.pk)
            .where(tokens.c.token_hash == hash_token(secret))
        ).first()
    if row is None or row.revoked_at is not None or (row.expires_at and row.expires_at < now_iso()):
        raise Unauthenticated("the bearer token is unknown, revoked or expired: ask an administrator for a new one")
    p = Principal(row.pk, row.name, row.kind, row.role, row.tenant, row.attributes or {})
    _CACHE.put(key, p)
    return p


def authorize(principal: Principal, action: str, tenant: str | None = None) -> None:
    """Raise Forbidden unless the principal's role allows ``action`` in ``tenant``."""
    if not principal.can(action):
        raise Forbidden(f"role '{principal.role}' of '{principal.name}' may not do {action}")
    if tenant is not None and not principal.may_use_tenant(tenant):
        raise Forbidden(f"'{principal.name}' is limited to tenant '{principal.tenant}' and may not use '{tenant}'")


# --- tenants -----------------------------------------------------------------------------------------

_KNOWN_TENANTS: set[tuple[str, str]] = set()  # (database url, tenant)


def check_tenant_name(name: str) -> str:
    if not _TENANT_NAME.match(name):
        raise InvalidInput(f"tenant {name!r} is not a valid name: use letters, digits, '-' or '_' (at most 64)")
    return name


def tenant_exists(db: Database, name: str) -> bool:
    if (db.url, name) in _KNOWN_TENANTS:
        return True
    with db.connect() as conn:
        found = conn.execute(select(tenants.c.name).where(tenants.c.name == name)).first() is not None
    if found:
        _KNOWN_TENANTS.add((db.url, name))
    return found


def ensure_tenant(db: Database, name: str) -> None:
    """Create the tenant on its first write (NGSI-LD: tenants are created implicitly)."""
    if (db.url, name) in _KNOWN_TENANTS:
        return
    check_tenant_name(name)
    try:
        with db.write() as conn:
            if conn.execute(select(tenants.c.name).where(tenants.c.name == name)).first() is None:
                conn.execute(insert(tenants).values(name=name, created_at=now_iso()))
    except IntegrityError:
        pass  # created concurrently
    _KNOWN_TENANTS.add((db.url, name))


def forget_caches() -> None:
    """Drop cached tokens and tenants (after a database is wiped)."""
    _KNOWN_TENANTS.clear()
    _CACHE.clear()
