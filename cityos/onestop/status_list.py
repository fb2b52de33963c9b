"""Bitstring status lists (W3C Bitstring Status List v1.0): one list per issuing office and purpose
(revocation, suspension), each a ``BitstringStatusListCredential`` whose ``encodedList`` is the multibase
base64url (no padding, prefix ``u``) of the GZIP of the bitstring. Index 0 is the left-most bit (the high bit of
the first byte); a list is at least 131,072 bits (16 KiB) long, so that one credential hides among many. Pure."""

from __future__ import annotations

import base64
import gzip
from collections.abc import Iterable
from typing import Any, Literal

from cityos.onestop.credentials import VC_V2

MIN_BITS = 131_072
Purpose = Literal["revocation", "suspension"]
PURPOSES: tuple[Purpose, ...] = ("revocation", "suspension")


def size_for(next_index: int) -> int:
    """Bits of a list whose indexes below ``next_index`` are taken: whole blocks of MIN_BITS."""
    blocks = max(1, -(-next_index // MIN_BITS))
    return blocks * MIN_BITS


def bitstring(set_indexes: Iterable[int], size: int = MIN_BITS) -> bytes:
    """A bitstring of ``size`` bits with the given indexes set (index 0: the high bit of the first byte)."""
    bits = bytearray(size // 8)
    for i in set_indexes:
        if not 0 <= i < size:
            raise ValueError(f"status index {i} is outside the list of {size} bits")
        bits[i // 8] |= 0x80 >> (i % 8)
    return bytes(bits)


def encode(set_indexes: Iterable[int], size: int = MIN_BITS) -> str:
    """The ``encodedList`` of a bitstring of ``size`` bits with the given indexes set."""
    packed = gzip.compress(bitstring(set_indexes, size), mtime=0)
    return "u" + base64.urlsafe_b64encode(packed).decode("ascii").rstrip("=")


def decode(encoded: str) -> bytes:
    """The bitstring of an ``encodedList``; ValueError when it is not multibase base64url of a GZIP."""
    if not encoded.startswith("u"):
        raise ValueError("the encodedList is not multibase base64url (it starts with u)")
    body = encoded[1:]
    try:
        return gzip.decompress(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    except (OSError, ValueError, EOFError) as exc:
        raise ValueError(f"the encodedList does not decode: {exc}") from None


def is_set(bits: bytes, index: int) -> bool:
    """Whether bit ``index`` is set; IndexError past the list's end."""
    if not 0 <= index < len(bits) * 8:
        raise IndexError(f"status index {index} is outside the list of {len(bits) * 8} bits")
    return bool(bits[index // 8] & (0x80 >> (index % 8)))


def list_credential(*, url: str, issuer: dict[str, Any], purpose: Purpose, encoded: str,
                    valid_from: str) -> dict[str, Any]:  # fmt: skip
    """The unsigned ``BitstringStatusListCredential`` of one list."""
    return {
        "@context": [VC_V2],
        "id": url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": issuer,
        "validFrom": valid_from,
        "credentialSubject": {
            "id": f"{url}#list",
            "type": "BitstringStatusList",
            "statusPurpose": purpose,
            "encodedList": encoded,
        },
    }
