"""Auth use cases: principals, tokens, staff accounts, tenants. Plain functions over a Database."""

from __future__ import annotations

import hashlib
import math
import re
import secrets
import threading
import time
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import Connection, insert, select, update
from sqlalchemy.exc import IntegrityError

from cityos.auth.models import (
    KINDS,
    LOGIN_HOURS,
    MAX_LOGIN_HOURS,
    PERMISSIONS,
    ROLES,
    SUBJECT_ROLES,
    Principal,
    Subject,
)
from cityos.auth.passwords import hash_password, verify_password
from cityos.auth.schemas import ProfilePublic
from cityos.auth.tables import passwords, principals, tenants, tokens
from cityos.auth.throttle import Windows, parse_rate
from cityos.core.timefmt import format_ts, now_iso, parse_ts
from cityos.errors import CityError, Forbidden, InvalidInput, NotFound, TooManyRequests, Unauthenticated
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
            pk = conn.execute(  # type: ignore[index]
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


def issue_token(db: Database, principal: Principal, *, label: str | None = None, expires_at: str | None = None) -> str:
    """A new bearer token for the principal, valid until ``expires_at`` (stored form, see timefmt) or
    revoked. Only its hash is stored: show the secret once."""
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with db.write() as conn:
        conn.execute(
            insert(tokens).values(
                token_hash=hash_token(secret),
                principal_pk=principal.pk,
                label=label,
                created_at=now_iso(),
                expires_at=expires_at,
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
    forget_tokens(db)
    return bool(n)


class _TokenCache:
    """Recently seen token hashes, so that a busy API does not hit the database on every request.

    An entry lives one second: a token revoked by another process (``cityos account password``, a
    logout served by another API process) stops working within that second; in the process that
    revokes it, at once. A second saves the lookup (about half a millisecond) on all but one request
    a second of a busy client.
    """

    def __init__(self, ttl: float = 1.0, size: int = 10_000) -> None:
        self.ttl, self.size = ttl, size
        self._items: dict[str, tuple[float, Principal]] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> Principal | None:
        item = self._items.get(key)
        if item and item[0] > time.monotonic():
            return item[1]
        return None

    def put(self, key: str, p: Principal, expires_at: str | None = None) -> None:
        ttl = self.ttl
        if expires_at is not None:  # a token about to expire is not served from here past its expiry
            ttl = min(ttl, (parse_ts(expires_at) - datetime.now(UTC)).total_seconds())
        with self._lock:
            if len(self._items) >= self.size:
                self._items.clear()
            self._items[key] = (time.monotonic() + ttl, p)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


def _tokens(db: Database) -> _TokenCache:
    return db.parts.get(_TokenCache, _TokenCache)


def forget_tokens(db: Database) -> None:
    """Forget the tokens seen recently (a revoked one stops working at once in this process)."""
    _tokens(db).clear()


def cached_principal(db: Database, authorization: str | None) -> Principal | None:
    """The principal of a recently seen token, without touching the database; None if not cached."""
    if not authorization or authorization[:7].lower() != "bearer ":
        return None
    return _tokens(db).get(hash_token(authorization[7:].strip()))


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
    key = hash_token(secret)
    cache = _tokens(db)
    cached = cache.get(key)
    if cached is not None:
        return cached
    with db.connect() as conn:
        row = conn.execute(
            select(principals, tokens.c.expires_at, tokens.c.revoked_at)
            .join(tokens, tokens.c.principal_pk == principals.c.pk)
            .where(tokens.c.token_hash == hash_token(secret))
        ).first()
    if row is None or row.revoked_at is not None or (row.expires_at and row.expires_at < now_iso()):
        raise Unauthenticated(
            "the bearer token is unknown, revoked or expired: log in again, or ask an administrator for a new one"
        )
    p = Principal(row.pk, row.name, row.kind, row.role, row.tenant, row.attributes or {})
    cache.put(key, p, row.expires_at)
    return p


def authorize(principal: Principal, action: str | None, tenant: str | None = None) -> None:
    """Raise Forbidden unless the principal's role allows ``action`` (None: any valid principal) in ``tenant``."""
    if action is not None and not principal.can(action):
        raise Forbidden(f"role '{principal.role}' of '{principal.name}' may not do {action}")
    if tenant is not None and not principal.may_use_tenant(tenant):
        raise Forbidden(f"'{principal.name}' is limited to tenant '{principal.tenant}' and may not use '{tenant}'")


# --- staff accounts ----------------------------------------------------------------------------------

LOCK_AFTER = 5  # wrong passwords for one account name from one client address ...
LOCK_MINUTES = 5  # ... within this long stop that address's logins to that name until the oldest is this old
LOCKOUT = parse_rate(f"{LOCK_AFTER} per {LOCK_MINUTES} minutes")
LOGIN_LABEL = "login"  # the label of tokens issued by login: a new password revokes them
WRONG_CREDENTIALS = "the account name or password is wrong"
_ACCOUNT_NAME = re.compile(r"[\w.@\-]{1,128}")


def create_account(
    db: Database,
    name: str,
    *,
    role: str,
    password: str,
    department: str | None = None,
    display_name: str | None = None,
    tenant: str | None = None,
) -> Principal:
    """Create a staff account that logs in with a password: ``cityos account create``.

    If the principal ``name`` exists, its password is set (or replaced) when its role, kind (staff) and
    tenant agree, as create_principal does; otherwise InvalidInput. ``department`` is the department an
    account of the department role acts for (required for that role, refused for the others); it and
    ``display_name`` (what the dashboard shows, default the name) are kept in the principal's attributes.
    """
    if not _ACCOUNT_NAME.fullmatch(name):
        raise InvalidInput(
            f"account name {name!r} is not valid: use letters, digits, '.', '_', '-' or '@' (at most 128)"
        )
    if role not in ROLES:
        raise InvalidInput(f"role {role!r} is unknown: use one of {', '.join(ROLES)}")
    if role == "department" and not department:
        raise InvalidInput("an account of the department role needs the department it acts for, e.g. traffic-police")
    if department is not None and role != "department":
        raise InvalidInput(
            f"role {role!r} is not limited to one department: give a department only with the department role"
        )
    attrs: dict[str, Any] = {}
    if department is not None:
        attrs["department"] = _attribute_text("department", department, 64)
    if display_name is not None:
        attrs["display_name"] = _attribute_text("display name", display_name, 128)
    hashed = hash_password(password)  # checks the password before anything is stored
    principal = create_principal(db, name, role=role, kind="staff", tenant=tenant)
    attrs = {**principal.attributes, **attrs}
    with db.write() as conn:
        if attrs != principal.attributes:
            conn.execute(update(principals).where(principals.c.pk == principal.pk).values(attributes=attrs))
        _store_password(conn, principal.pk, hashed)
    forget_tokens(db)  # cached principals of its tokens carry the old attributes
    return Principal(principal.pk, principal.name, principal.kind, principal.role, principal.tenant, attrs)


def set_password(db: Database, name: str, password: str) -> Principal:
    """Replace the password of the account ``name`` (ending its login sessions; a lockout ends by itself):
    ``cityos account password``. NotFound for a name that is not an account."""
    hashed = hash_password(password)
    with db.write() as conn:
        row = conn.execute(
            select(principals)
            .join(passwords, passwords.c.principal_pk == principals.c.pk)
            .where(principals.c.name == name)
        ).first()
        if row is None:
            raise NotFound(f"there is no account {name!r}: create it with 'cityos account create {name} --role ROLE'")
        _store_password(conn, row.pk, hashed)
    forget_tokens(db)
    return Principal(row.pk, row.name, row.kind, row.role, row.tenant, row.attributes or {})


def _attribute_text(what: str, value: str, size: int) -> str:
    text = value.strip()
    if not text or len(text) > size:
        raise InvalidInput(f"the {what} must be 1 to {size} characters, not {value!r}")
    return text


def _store_password(conn: Connection, principal_pk: int, hashed: str) -> None:
    """Set the password hash and revoke the tokens earlier logins issued."""
    now = now_iso()
    values = {"password_hash": hashed, "updated_at": now}
    if conn.execute(update(passwords).where(passwords.c.principal_pk == principal_pk).values(**values)).rowcount:
        conn.execute(
            update(tokens)
            .where(tokens.c.principal_pk == principal_pk, tokens.c.label == LOGIN_LABEL, tokens.c.revoked_at.is_(None))
            .values(revoked_at=now)
        )
    else:
        conn.execute(insert(passwords).values(principal_pk=principal_pk, **values))


class LoginFailures(Windows):
    """Wrong passwords per (account name, client address) in this process, for the lockout.

    Counted by address too, so that a stranger who guesses cannot keep the account's owner out; and by
    name whether an account of that name exists or not, so that the lockout tells nothing of which
    names exist. Guessing many names from one address is held by the login rate (CITYOS_RATE_LIMIT_LOGIN).
    """


def login(
    db: Database, name: str, password: str, *, hours: int = LOGIN_HOURS, address: str = ""
) -> tuple[str, str, Principal]:
    """Check an account's password and issue a token that expires after ``hours``:
    (token secret, expiry in the stored form, principal). ``address``: the client's address.

    Unauthenticated with one message for an unknown name and a wrong password alike. After LOCK_AFTER
    wrong passwords for a name from one address within LOCK_MINUTES, that address's logins to that name
    are refused (TooManyRequests, the same for every name) until the oldest of them is LOCK_MINUTES old;
    a right password clears the count. A principal without a password (one that only has tokens) cannot
    log in.
    """
    if not 1 <= hours <= MAX_LOGIN_HOURS:
        raise InvalidInput(f"a login lasts 1 to {MAX_LOGIN_HOURS} hours, not {hours}")
    failures = db.parts.get(LoginFailures, LoginFailures)
    # counted before the (slow) password check, so that tries sent in parallel are counted too; a right
    # password clears the count again
    if not failures.take(LOCKOUT, name, address):
        raise _locked(failures, name, address)
    with db.connect() as conn:
        row = conn.execute(
            select(principals, passwords.c.password_hash)
            .join(passwords, passwords.c.principal_pk == principals.c.pk)
            .where(principals.c.name == name)
        ).first()
    if row is None:
        verify_password(password, _dummy_hash())  # as slow as a wrong password: the time tells nothing either
        raise _wrong(failures, name, address)
    if not verify_password(password, row.password_hash):
        raise _wrong(failures, name, address)
    failures.clear(LOCKOUT, name, address)
    principal = Principal(row.pk, row.name, row.kind, row.role, row.tenant, row.attributes or {})
    expires_at = format_ts(datetime.now(UTC) + timedelta(hours=hours))
    return issue_token(db, principal, label=LOGIN_LABEL, expires_at=expires_at), expires_at, principal


def _wrong(failures: LoginFailures, name: str, address: str) -> CityError:
    """The answer to a wrong password (or an unknown name), counted already: the lockout once this one
    filled it."""
    return (
        _locked(failures, name, address)
        if failures.full(LOCKOUT, name, address)
        else Unauthenticated(WRONG_CREDENTIALS)
    )


def _locked(failures: LoginFailures, name: str, address: str) -> TooManyRequests:
    wait = failures.retry_after(LOCKOUT, name, address)
    minutes = max(1, math.ceil(wait / 60))
    return TooManyRequests(
        f"{LOCK_AFTER} wrong passwords for this account name from this address within {LOCK_MINUTES} minutes: "
        f"try again in {minutes} minute{'s' if minutes > 1 else ''}",
        retryAfter=wait,
    )


SUBJECT_LOGIN_LABEL = "subject-login"  # the label of the tokens an identity provider's login issues
MAX_SUBJECT_MINUTES = 240


def sign_in_subject(
    db: Database,
    name: str,
    subject: Subject,
    *,
    tenant: str,
    display_name: str | None = None,
    minutes: int = 60,
) -> tuple[str, str, Principal]:
    """Log a person or an enterprise in, as an identity provider vouched for it (the one-stop portal's login):
    the principal ``name`` of the role of its subject's kind (``citizen`` for a person, ``enterprise`` for an
    enterprise), limited to ``tenant``, made on its first login and carrying ``subject``; a token that expires
    after ``minutes``. (token secret, expiry in the stored form, principal).

    ``name`` is the caller's stable name for the subject (never the ID number itself: it is written into the
    audit chain). InvalidInput when the name belongs to another kind of principal or another subject."""
    role = next((r for r, kind in SUBJECT_ROLES.items() if kind == subject.kind), None)
    if role is None:
        raise InvalidInput(f"a subject is a person or an enterprise, not {subject.kind!r}")
    if not 1 <= minutes <= MAX_SUBJECT_MINUTES:
        raise InvalidInput(f"a portal login lasts 1 to {MAX_SUBJECT_MINUTES} minutes, not {minutes}")
    principal = create_principal(db, name, role=role, kind=role, tenant=tenant)
    held = principal.subject
    if held is not None and (held.kind, held.key) != (subject.kind, subject.key):
        raise InvalidInput(f"principal {name!r} is another {held.kind}'s: choose another name")
    attrs = {**principal.attributes, "subject": subject.attributes()}
    if display_name is not None:
        attrs["display_name"] = _attribute_text("display name", display_name, 128)
    if attrs != principal.attributes:
        with db.write() as conn:
            conn.execute(update(principals).where(principals.c.pk == principal.pk).values(attributes=attrs))
        forget_tokens(db)
    principal = Principal(principal.pk, principal.name, principal.kind, principal.role, principal.tenant, attrs)
    expires_at = format_ts(datetime.now(UTC) + timedelta(minutes=minutes))
    return issue_token(db, principal, label=SUBJECT_LOGIN_LABEL, expires_at=expires_at), expires_at, principal


@cache
def _dummy_hash() -> str:
    return hash_password(secrets.token_urlsafe(16))


def actions_of(role: str) -> list[str]:
    """The actions a role allows, sorted. For admin (who may do anything, "*"): every action any role
    has, and "*"."""
    granted = PERMISSIONS.get(role, frozenset())
    if "*" in granted:
        granted = frozenset().union(*PERMISSIONS.values())
    return sorted(granted)


def profile(principal: Principal) -> ProfilePublic:
    """Who a principal is and what it may do, for a client deciding what to offer (GET /auth/me).

    ``department`` is the one department the principal is limited to, None if it is not."""
    return ProfilePublic(
        name=principal.name,
        displayName=principal.attributes.get("display_name") or principal.name,
        kind=principal.kind,
        role=principal.role,
        department=principal.department,
        tenant=principal.tenant,
        permissions=actions_of(principal.role),
    )


# --- tenants -----------------------------------------------------------------------------------------


class _KnownTenants(set[str]):
    """Tenants seen to exist in a database (they are never deleted), so that a write need not look."""


def _known(db: Database) -> _KnownTenants:
    return db.parts.get(_KnownTenants, _KnownTenants)


def check_tenant_name(name: str) -> str:
    if not _TENANT_NAME.match(name):
        raise InvalidInput(f"tenant {name!r} is not a valid name: use letters, digits, '-' or '_' (at most 64)")
    return name


def tenant_exists(db: Database, name: str) -> bool:
    if name in _known(db):
        return True
    with db.connect() as conn:
        found = conn.execute(select(tenants.c.name).where(tenants.c.name == name)).first() is not None
    if found:
        _known(db).add(name)
    return found


def ensure_tenant(db: Database, name: str) -> None:
    """Create the tenant on its first write (NGSI-LD: tenants are created implicitly)."""
    if name in _known(db):
        return
    check_tenant_name(name)
    try:
        with db.write() as conn:
            if conn.execute(select(tenants.c.name).where(tenants.c.name == name)).first() is None:
                conn.execute(insert(tenants).values(name=name, created_at=now_iso()))
    except IntegrityError:
        pass  # created concurrently
    _known(db).add(name)
