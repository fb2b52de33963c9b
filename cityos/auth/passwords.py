"""Password hashing for staff accounts: scrypt from the standard library, compared in constant time. Pure.

A stored hash reads ``scrypt$n$r$p$salt_b64$hash_b64``; the cost parameters travel with it, so that
raising them later leaves the hashes already stored verifiable.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import unicodedata

from cityos.errors import InvalidInput

MIN_LENGTH = 10
MAX_LENGTH = 1024
N, R, P = 2**14, 8, 1  # about 16 MiB and a few tens of milliseconds a hash
SALT_BYTES = 16
KEY_BYTES = 32
_MAX_MEMORY = 64 * 1024 * 1024  # above the 128 * r * n bytes scrypt needs, below OpenSSL's refusal


def _normal(password: str) -> str:
    # the same characters typed on two systems may arrive composed or decomposed (NIST SP 800-63B: NFKC)
    return unicodedata.normalize("NFKC", password)


def check_password(password: str) -> str:
    """The password if it is acceptable as a new password, else InvalidInput saying why."""
    if not isinstance(password, str):
        raise InvalidInput("the password must be text")
    length = len(_normal(password))
    if length < MIN_LENGTH:
        raise InvalidInput(
            f"the password has {length} character{'' if length == 1 else 's'}: use at least {MIN_LENGTH} (a few "
            "words make a long one easy to remember)"
        )
    if length > MAX_LENGTH:
        raise InvalidInput(f"the password has {length} characters: use at most {MAX_LENGTH}")
    return password


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _derive(password: str, salt: bytes, n: int, r: int, p: int, size: int) -> bytes:
    return hashlib.scrypt(_normal(password).encode(), salt=salt, n=n, r=r, p=p, maxmem=_MAX_MEMORY, dklen=size)


def hash_password(password: str) -> str:
    """A salted scrypt hash of a new password (checked first: InvalidInput if it is too short)."""
    check_password(password)
    salt = secrets.token_bytes(SALT_BYTES)
    return f"scrypt${N}${R}${P}${_b64(salt)}${_b64(_derive(password, salt, N, R, P, KEY_BYTES))}"


def verify_password(password: str, stored: str) -> bool:
    """Whether ``password`` matches the stored hash; False as well for a hash that cannot be read."""
    try:
        scheme, n, r, p, salt_b64, key_b64 = stored.split("$")
        if scheme != "scrypt":
            return False
        salt, key = base64.b64decode(salt_b64, validate=True), base64.b64decode(key_b64, validate=True)
        derived = _derive(password, salt, int(n), int(r), int(p), len(key))
    except ValueError:  # malformed, or parameters scrypt refuses
        return False
    return hmac.compare_digest(derived, key)
