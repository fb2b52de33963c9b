"""Office seals (电子印章): each issuing department's Ed25519 key pair, made on its first use and kept in the
database (``onestop_seals``), so that every API node of a deployment signs with the same key and a backup of
the database keeps it. The private key is stored encrypted with AES-256-GCM under a key derived from
``CITYOS_SEAL_SECRET`` (the tenant and department bound to it as associated data, so a row copied to another
office does not open); outside demo mode nothing is sealed until the secret is set. The public keys are
published (``GET /onestop/seals``) for verifiers.
"""

from __future__ import annotations

import base64
import hashlib
import os
import threading
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy.exc import IntegrityError

from cityos.config import Settings
from cityos.onestop import credential_store as store
from cityos.onestop.credential_errors import SealSecretMissing, SealUnreadable
from cityos.onestop.credential_verify import Seal
from cityos.onestop.credentials import did_key, multikey, verification_method
from cityos.runtime import Runtime

DEMO_SECRET = "cityos demo seal secret: not for a city's data"  # demo mode only: refused elsewhere
INDEX_BLOCK = 64  # status indexes a process reserves at a time (see StatusIndexes)


@dataclass(frozen=True)
class OfficeSeal:
    """An opened seal: what is published, and the private key that signs."""

    seal: Seal
    private: Ed25519PrivateKey

    @cached_property
    def method(self) -> str:
        """The seal's did:key verification method (computed once: it is in every proof the seal makes)."""
        return verification_method(self.private.public_key())

    @cached_property
    def did(self) -> str:
        """The seal's did:key, the issuer id of every credential it seals."""
        return did_key(self.private.public_key())


def _cipher(settings: Settings) -> AESGCM:
    secret = settings.seal_secret
    if not secret:
        if not settings.demo_mode:
            raise SealSecretMissing("set CITYOS_SEAL_SECRET (a long secret you keep, e.g. `openssl rand -hex 32`): "
                                    "the offices' seal keys are encrypted with it")  # fmt: skip
        secret = DEMO_SECRET
    return AESGCM(hashlib.sha256(b"cityos office seals\0" + secret.encode()).digest())


def _aad(tenant: str, department: str) -> bytes:
    return f"{tenant}\0{department}".encode()


def seal_key(settings: Settings, tenant: str, department: str, private: Ed25519PrivateKey) -> str:
    raw = private.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                serialization.NoEncryption())  # fmt: skip
    nonce = os.urandom(12)
    return base64.b64encode(nonce + _cipher(settings).encrypt(nonce, raw, _aad(tenant, department))).decode()


def open_key(settings: Settings, tenant: str, department: str, stored: str) -> Ed25519PrivateKey:
    data = base64.b64decode(stored)
    try:
        raw = _cipher(settings).decrypt(data[:12], data[12:], _aad(tenant, department))
    except InvalidTag:
        raise SealUnreadable(f"the seal of {department} does not open with CITYOS_SEAL_SECRET: the secret changed "
                             "since the seal was made; set the one it was made with") from None  # fmt: skip
    return Ed25519PrivateKey.from_private_bytes(raw)


def _published(row: dict[str, object]) -> Seal:
    return Seal(str(row["department"]), str(row["name"]), str(row["public_key"]), str(row["created_at"]))


class SealRing:
    """This process's opened seals, by tenant and department (a runtime part: keys are opened once)."""

    def __init__(self, rt: Runtime) -> None:
        self._rt = rt
        self._open: dict[tuple[str, str], OfficeSeal] = {}
        self._lock = threading.Lock()

    def seal(self, tenant: str, department: str, name: str) -> OfficeSeal:
        """The department's seal, made now (named ``name``) when it has none."""
        found = self._open.get((tenant, department))
        if found is not None:
            return found
        with self._lock:
            found = self._open.get((tenant, department)) or self._load_or_make(tenant, department, name)
            self._open[(tenant, department)] = found
        return found

    def _load_or_make(self, tenant: str, department: str, name: str) -> OfficeSeal:
        settings = self._rt.settings
        with self._rt.db.connect() as conn:
            row = store.get_seal(conn, tenant, department)
        if row is None:
            private = Ed25519PrivateKey.generate()
            new: dict[str, Any] = {"tenant": tenant, "department": department, "name": name,
                   "public_key": multikey(private.public_key()),
                   "private_key": seal_key(settings, tenant, department, private), "next_index": 0,
                   "created_at": datetime.now(UTC).isoformat(timespec="seconds")}  # fmt: skip
            try:
                self._rt.db.run_write(lambda conn: store.insert_seal(conn, new))
                row = new
            except IntegrityError:  # another process made it first: use theirs
                with self._rt.db.connect() as conn:
                    row = store.get_seal(conn, tenant, department)
                if row is None:
                    raise
        return OfficeSeal(_published(row), open_key(settings, tenant, department, str(row["private_key"])))


def ring(rt: Runtime) -> SealRing:
    return rt.parts.get(SealRing, lambda: SealRing(rt))


class StatusIndexes:
    """This process's status indexes reserved ahead, by tenant and office (a runtime part).

    An office's indexes are handed out from its seal row's counter (``next_index``) a block of
    :data:`INDEX_BLOCK` at a time, each block in its own committed transaction, then one by one from memory: an
    issue takes its index without writing the hot counter row (which would serialise every issue of the office
    on its lock). Several processes each hold their own blocks; the unique index on (tenant, issuer,
    status_index) is the guard. Indexes a process reserved and never used (it stopped, an issue failed) stay
    unset bits of the lists: nothing refers to them."""

    def __init__(self, rt: Runtime) -> None:
        self._rt = rt
        self._free: dict[tuple[str, str], deque[int]] = {}
        self._lock = threading.Lock()

    def take(self, tenant: str, department: str) -> int:
        """The office's next free status index (its seal made already), reserved for this process's use once."""
        with self._lock:
            free = self._free.setdefault((tenant, department), deque())
            if not free:
                first = self._rt.db.run_one(lambda conn: store.reserve_indexes(conn, tenant, department,
                                                                               INDEX_BLOCK))  # fmt: skip
                free.extend(range(first, first + INDEX_BLOCK))
            return free.popleft()


def status_indexes(rt: Runtime) -> StatusIndexes:
    return rt.parts.get(StatusIndexes, lambda: StatusIndexes(rt))


def published(rt: Runtime, tenant: str) -> list[Seal]:
    """Every office seal of the tenant, as verifiers need them (no private key is read)."""
    with rt.db.connect() as conn:
        return [_published(r) for r in store.all_seals(conn, tenant)]


def find(rt: Runtime, tenant: str, department: str) -> Seal | None:
    with rt.db.connect() as conn:
        row = store.get_seal(conn, tenant, department)
    return _published(row) if row else None
