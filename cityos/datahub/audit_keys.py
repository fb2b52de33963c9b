"""The audit chain's keys: the Ed25519 key that seals it and the secret of the subjects' keyed hashes.

The seal key is the PEM file ``audit_seal_key`` names; without one, a key is generated on first use into the
data directory (``audit-seal.pem``, mode 0600) and the log says where. Loaded once per runtime (a part).

A seal key is rotated (:func:`rotate`) by sealing the head with it, keeping its public key among the retired
ones (``audit_retired_keys``, by key id) and writing a new key in its place: verify checks each seal with the
key that made it. The subjects' keyed hashes must outlive the key, so rotation needs ``audit_subject_secret``.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from itertools import compress, repeat
from operator import is_
from pathlib import Path
from typing import Any

import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from cityos.config import Settings
from cityos.datahub.errors import AuditKeyInvalid
from cityos.runtime import Runtime

log = logging.getLogger(__name__)
GENERATED_NAME = "audit-seal.pem"
SUBJECT_MEMO = 100_000  # subject hashes a runtime keeps (about 25 MB at most)
PAGE_SUBJECTS_MIN = 64  # a set of subjects this large has its record's text kept (subjects_text)
PAGES_KEPT = 64  # sets of subjects kept (a page of 1,000 ID numbers: ~70 KB of text, ~100 KB of set)
RETIRED_NAME = "audit-keys-retired"  # in the data directory, when audit_retired_keys is unset


@dataclass(frozen=True)
class AuditKeys:
    private: Ed25519PrivateKey
    public: Ed25519PublicKey
    key_id: str  # the first 32 hex of SHA-256 of the raw public key
    subject_secret: bytes
    path: Path
    retired: Mapping[str, Ed25519PublicKey] = field(default_factory=dict)  # key id -> a former seal key

    def sign(self, message: bytes) -> str:
        return self.private.sign(message).hex()

    def verifies(self, message: bytes, signature_hex: str, key_id: str | None = None) -> bool:
        """Whether the signature is that of the key ``key_id`` names (the seal key, or a retired one)."""
        public = self.public if key_id in (None, self.key_id) else self.retired.get(key_id)
        if public is None:
            return False
        try:
            public.verify(bytes.fromhex(signature_hex), message)
        except (InvalidSignature, ValueError):
            return False
        return True

    def knows(self, key_id: str) -> bool:
        return key_id == self.key_id or key_id in self.retired

    def subject_hash(self, subject: str) -> str:
        """The keyed hash the log keeps of a person's ID number or a company's credit code: BLAKE2b-256 in its
        keyed mode (a MAC by design, as HMAC-SHA256 is, and a tenth of its cost per call), hex."""
        h = self._keyed.copy()  # the keyed state made once: a copy skips the key's block on every call
        h.update(subject.strip().upper().encode())
        return h.hexdigest()

    def subject_hashes(self, subjects: Collection[str]) -> set[str]:
        """The keyed hashes of ``subjects`` (the empty ones left out), as :meth:`subject_hash` makes them: a read
        of a page names the same persons as the reads before it, so each hash is kept (up to
        ``SUBJECT_MEMO`` of them, then forgotten all at once) and a known subject costs a dict lookup."""
        memo = self._memo
        hashes = list(map(memo.get, subjects))
        found = set(filter(None, hashes))
        if None not in hashes:  # every subject known: no Python loop over the page
            return found
        if len(memo) > SUBJECT_MEMO:
            memo.clear()
        for subject in compress(subjects, map(is_, hashes, repeat(None))):
            if subject:
                found.add(memo.setdefault(subject, self.subject_hash(subject)))
        return found

    def subjects_text(self, subjects: Collection[str]) -> str:
        """The JSON array of the sorted keyed hashes of ``subjects``: what an audit record keeps of them. A page
        read again (a scenario's pages, the same persons looked up by many clerks) names the same subjects: the
        text of a set of ``PAGE_SUBJECTS_MIN`` or more is kept (up to ``PAGES_KEPT`` sets, then forgotten all at
        once), so that such a read costs a set's comparison instead of its hashes looked up, sorted and written."""
        if len(subjects) < PAGE_SUBJECTS_MIN:
            return orjson.dumps(sorted(self.subject_hashes(subjects))).decode()
        key = frozenset(subjects)
        found = self._pages.get(key)
        if found is None:
            found = orjson.dumps(sorted(self.subject_hashes(key))).decode()
            if len(self._pages) >= PAGES_KEPT:
                self._pages.clear()
            self._pages[key] = found
        return found

    @cached_property
    def _memo(self) -> dict[str, str]:
        return {}

    @cached_property
    def _pages(self) -> dict[frozenset[str], str]:
        return {}

    @cached_property
    def _keyed(self) -> Any:
        """BLAKE2b-256 keyed with the subject secret, before any subject: what each subject hash starts from."""
        return hashlib.blake2b(key=self.subject_secret, digest_size=32)


def key_id_of(public: Ed25519PublicKey) -> str:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:32]


def retired_dir(settings: Settings) -> Path:
    return settings.audit_retired_keys or settings.data_dir / RETIRED_NAME


def _retired(directory: Path) -> dict[str, Ed25519PublicKey]:
    """The retired public keys in ``directory`` by key id; a file that is not one is skipped with a warning."""
    found: dict[str, Ed25519PublicKey] = {}
    for path in sorted(directory.glob("*.pem")) if directory.is_dir() else ():
        try:
            public = serialization.load_pem_public_key(path.read_bytes())
        except (OSError, ValueError, TypeError):
            log.warning("skipped %s: not a PEM public key", path)
            continue
        if isinstance(public, Ed25519PublicKey):
            found[key_id_of(public)] = public
    return found


def _generate(path: Path) -> None:
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # never readable by others, not even briefly
    with os.fdopen(fd, "wb") as f:
        f.write(pem)
    log.warning("generated the audit seal key %s (set CITYOS_AUDIT_SEAL_KEY to a key of your own)", path)


def _load(path: Path) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as exc:
        raise AuditKeyInvalid(
            f"the audit seal key {path} cannot be read ({exc}): CITYOS_AUDIT_SEAL_KEY names an unencrypted PEM file "
            "of an Ed25519 private key (openssl genpkey -algorithm ed25519)"
        ) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise AuditKeyInvalid(f"the audit seal key {path} is not an Ed25519 key: make one with "
                              "openssl genpkey -algorithm ed25519")  # fmt: skip
    return key


def load_keys(settings: Settings) -> AuditKeys:
    """The keys the settings name, the seal key generated into the data directory when none is named."""
    path = settings.audit_seal_key or settings.data_dir / GENERATED_NAME
    if settings.audit_seal_key is None and not path.exists():
        with contextlib.suppress(FileExistsError):  # another process made it first
            _generate(path)
    private = _load(path)
    public = private.public_key()
    if settings.audit_subject_secret:
        material = settings.audit_subject_secret.encode()
    else:
        material = private.private_bytes(
            serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
        )
    secret = hashlib.sha256(b"cityos audit subjects\0" + material).digest()  # a BLAKE2b key is at most 64 bytes
    return AuditKeys(private, public, key_id_of(public), secret, path, _retired(retired_dir(settings)))


def keys(rt: Runtime) -> AuditKeys:
    """This runtime's audit keys, loaded once."""
    return rt.parts.get(AuditKeys, lambda: load_keys(rt.settings))


def rotate(settings: Settings) -> tuple[str, str]:
    """Retire the seal key the settings name and write a new one in its place: the old public key kept among
    the retired (by its key id), so that verify checks the seals it made. The caller seals the head with the old
    key first. (old key id, new key id). AuditKeyInvalid when no subject secret is set: the subjects' keyed
    hashes would change with the key, and "who used my data" would lose every earlier read."""
    if not settings.audit_subject_secret:
        raise AuditKeyInvalid(
            "set CITYOS_AUDIT_SUBJECT_SECRET (a long secret you keep) before rotating the seal key: without it the "
            "subjects' keyed hashes are derived from the key, and a new key would make who used my data miss every "
            "earlier read"
        )
    old = load_keys(settings)
    directory = retired_dir(settings)
    directory.mkdir(parents=True, exist_ok=True)
    pem = old.public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    (directory / f"{old.key_id}.pem").write_bytes(pem)
    fresh = old.path.with_name(old.path.name + ".new")
    fresh.unlink(missing_ok=True)
    _generate(fresh)
    os.replace(fresh, old.path)  # atomic: a process loading the key sees the old one or the new one
    return old.key_id, key_id_of(_load(old.path).public_key())
