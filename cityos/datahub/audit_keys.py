"""The audit chain's keys: the Ed25519 key that seals it and the secret of the subjects' keyed hashes.

The seal key is the PEM file ``audit_seal_key`` names; without one, a key is generated on first use into the
data directory (``audit-seal.pem``, mode 0600) and the log says where. Loaded once per runtime (a part).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from cityos.config import Settings
from cityos.datahub.errors import AuditKeyInvalid
from cityos.runtime import Runtime

log = logging.getLogger(__name__)
GENERATED_NAME = "audit-seal.pem"


@dataclass(frozen=True)
class AuditKeys:
    private: Ed25519PrivateKey
    public: Ed25519PublicKey
    key_id: str  # the first 32 hex of SHA-256 of the raw public key
    subject_secret: bytes
    path: Path

    def sign(self, message: bytes) -> str:
        return self.private.sign(message).hex()

    def verifies(self, message: bytes, signature_hex: str) -> bool:
        try:
            self.public.verify(bytes.fromhex(signature_hex), message)
        except (InvalidSignature, ValueError):
            return False
        return True

    def subject_hash(self, subject: str) -> str:
        """The keyed hash the log keeps of a person's ID number or a company's credit code: BLAKE2b-256 in its
        keyed mode (a MAC by design, as HMAC-SHA256 is, and a tenth of its cost per call), hex."""
        return hashlib.blake2b(subject.strip().upper().encode(), key=self.subject_secret, digest_size=32).hexdigest()


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
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    if settings.audit_subject_secret:
        material = settings.audit_subject_secret.encode()
    else:
        material = private.private_bytes(
            serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
        )
    secret = hashlib.sha256(b"cityos audit subjects\0" + material).digest()  # a BLAKE2b key is at most 64 bytes
    return AuditKeys(private, public, hashlib.sha256(raw).hexdigest()[:32], secret, path)


def keys(rt: Runtime) -> AuditKeys:
    """This runtime's audit keys, loaded once."""
    return rt.parts.get(AuditKeys, lambda: load_keys(rt.settings))
