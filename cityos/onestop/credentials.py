"""E-certificates (电子证照) as W3C Verifiable Credentials 2.0, secured with a Data Integrity proof of the
cryptosuite ``eddsa-jcs-2022`` (W3C VC Data Integrity EdDSA Cryptosuites v1.0, §3.3). Pure functions, no I/O.

The proof, as the Recommendation makes it: the proof configuration (type, cryptosuite, created,
verificationMethod, proofPurpose, and the document's ``@context``) and the document without its proof are each
canonicalised with JCS (RFC 8785: the ``rfc8785`` library, through orjson where it writes the same bytes, see
:mod:`cityos.onestop.jcs`) and hashed with SHA-256; the Ed25519 signature of
``proofConfigHash || documentHash`` is the proof value, multibase base58btc (``z…``).

An office seal (电子印章) is named by a ``did:key`` (``did:key:z6Mk…#z6Mk…``): the key is in the identifier,
so any verifier checks the signature offline, and cityos's verifier checks besides that the key is one of
the offices' seals the city publishes (``GET /onestop/seals``). The issuer's ``id`` is the same did:key.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from cityos.onestop import jcs

VC_V2 = "https://www.w3.org/ns/credentials/v2"
PROOF_TYPE = "DataIntegrityProof"
CRYPTOSUITE = "eddsa-jcs-2022"
ASSERTION = "assertionMethod"
ED25519_PUB = b"\xed\x01"  # multicodec ed25519-pub (0xed), varint
ED25519_PRIV = b"\x80\x26"  # multicodec ed25519-priv (0x1300), varint
DID_KEY = "did:key:"

Document = dict[str, Any]


def canonical(value: Any) -> bytes:
    """The JCS (RFC 8785) form of a JSON value."""
    return jcs.dumps(value)


B58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"  # Bitcoin's
_B58_CHUNK = 58**10  # ten digits, five pairs: 58**10 == 3364**5
_B58_PAIRS = [a + b for a in B58_ALPHABET for b in B58_ALPHABET]  # the two digits of 0..3363
_B58_PAIR_VALUES = {pair: i for i, pair in enumerate(_B58_PAIRS)}
_B58_VALUES = {digit: i for i, digit in enumerate(B58_ALPHABET)}


def b58encode(data: bytes) -> str:
    """Base58 (Bitcoin alphabet) of the bytes: each leading zero byte a ``1``, then the number's digits. Ten digits
    a big-number division, written two at a time from a table (a signature takes 9 divisions instead of 88: the
    ``base58`` library's way cost as much as the signature itself); tests/onestop/test_jcs.py checks it against
    the library."""
    n = int.from_bytes(data, "big")
    pairs = _B58_PAIRS
    chunks: list[str] = []
    while n:
        n, chunk = divmod(n, _B58_CHUNK)
        chunk, p4 = divmod(chunk, 3364)
        chunk, p3 = divmod(chunk, 3364)
        chunk, p2 = divmod(chunk, 3364)
        p0, p1 = divmod(chunk, 3364)
        chunks.append(pairs[p0] + pairs[p1] + pairs[p2] + pairs[p3] + pairs[p4])
    digits = "".join(reversed(chunks)).lstrip("1")  # the first chunk's zero high digits
    return "1" * (len(data) - len(data.lstrip(b"\0"))) + digits


def b58decode(text: str) -> bytes:
    """The bytes of a base58 (Bitcoin alphabet) string, ten digits a big-number step (as :func:`b58encode`);
    ValueError for a character not base58 (whitespace included: the library strips it, this does not)."""
    body = text.lstrip("1")
    head = len(body) % 10
    n = 0
    try:
        for digit in body[:head]:
            n = n * 58 + _B58_VALUES[digit]
        values = _B58_PAIR_VALUES
        for i in range(head, len(body), 10):
            n = n * _B58_CHUNK + (
                (((values[body[i : i + 2]] * 3364 + values[body[i + 2 : i + 4]]) * 3364 + values[body[i + 4 : i + 6]])
                 * 3364 + values[body[i + 6 : i + 8]]) * 3364 + values[body[i + 8 : i + 10]]
            )  # fmt: skip
    except KeyError:
        raise ValueError("not base58: a character outside the Bitcoin alphabet") from None
    return b"\0" * (len(text) - len(body)) + n.to_bytes((n.bit_length() + 7) // 8, "big")


def multibase(data: bytes) -> str:
    """Multibase base58btc: ``z`` and the base58 (Bitcoin alphabet) of the bytes."""
    return "z" + b58encode(data)


def from_multibase(text: str) -> bytes:
    """The bytes of a multibase base58btc string; ValueError for another base or a character not base58."""
    if not text.startswith("z"):
        raise ValueError("not multibase base58btc (it starts with z)")
    return b58decode(text[1:])


def raw_public(public: Ed25519PublicKey) -> bytes:
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def multikey(public: Ed25519PublicKey) -> str:
    """The Multikey ``publicKeyMultibase`` of an Ed25519 key (``z6Mk…``)."""
    return multibase(ED25519_PUB + raw_public(public))


def public_from_multikey(text: str) -> Ed25519PublicKey:
    """The Ed25519 key of a ``z6Mk…`` Multikey; ValueError when it is not one."""
    data = from_multibase(text)
    if not data.startswith(ED25519_PUB) or len(data) != 34:
        raise ValueError("not an Ed25519 public key multikey (z6Mk…)")
    return Ed25519PublicKey.from_public_bytes(data[2:])


def private_from_multikey(text: str) -> Ed25519PrivateKey:
    """The Ed25519 private key of a ``z3u2…`` secret-key multikey (the test vector's form)."""
    data = from_multibase(text)
    if not data.startswith(ED25519_PRIV) or len(data) != 34:
        raise ValueError("not an Ed25519 private key multikey")
    return Ed25519PrivateKey.from_private_bytes(data[2:])


def did_key(public: Ed25519PublicKey) -> str:
    return DID_KEY + multikey(public)


def verification_method(public: Ed25519PublicKey) -> str:
    """The did:key verification method of a key: ``did:key:z6Mk…#z6Mk…``."""
    key = multikey(public)
    return f"{DID_KEY}{key}#{key}"


def key_of_method(method: str) -> Ed25519PublicKey | None:
    """The key a did:key verification method names; None for another method or a malformed one."""
    did, _, fragment = method.partition("#")
    if not did.startswith(DID_KEY):
        return None
    key = did.removeprefix(DID_KEY)
    if fragment and fragment != key:
        return None
    try:
        return public_from_multikey(key)
    except ValueError:
        return None


def proof_config(document: Mapping[str, Any], *, method: str, created: str, purpose: str = ASSERTION) -> Document:
    """The proof configuration of §3.3.5: the proof's options, with the document's ``@context`` when it has one."""
    config: Document = {"type": PROOF_TYPE, "cryptosuite": CRYPTOSUITE, "created": created,
                        "verificationMethod": method, "proofPurpose": purpose}  # fmt: skip
    if "@context" in document:
        config["@context"] = document["@context"]
    return config


def hash_data(document: Mapping[str, Any], config: Mapping[str, Any]) -> bytes:
    """§3.3.4: SHA-256 of the canonical proof configuration, then SHA-256 of the canonical document (64 bytes)."""
    return hashlib.sha256(canonical(config)).digest() + hashlib.sha256(canonical(document)).digest()


def sign(document: Mapping[str, Any], key: Ed25519PrivateKey, *, created: str, method: str | None = None) -> Document:
    """The document with an ``eddsa-jcs-2022`` proof made with ``key`` (its did:key method unless ``method``
    names another). ValueError for a document that already has a proof (proof sets are not made here)."""
    if "proof" in document:
        raise ValueError("the document has a proof already")
    config = proof_config(document, method=method or verification_method(key.public_key()), created=created)
    signature = key.sign(hash_data(document, config))
    return {**document, "proof": {**config, "proofValue": multibase(signature)}}


@dataclass(frozen=True)
class ProofCheck:
    """Whether a document's proof verifies, and when not, why (zh-CN, English)."""

    ok: bool
    method: str | None = None  # the proof's verification method
    reason_zh: str = ""
    reason_en: str = ""


def _fail(zh: str, en: str, method: str | None = None) -> ProofCheck:
    return ProofCheck(False, method, zh, en)


def _context_prefix(document: Mapping[str, Any], proof_context: object) -> bool:
    """§3.3.2 step 4: the document's @context starts with every value of the proof's, in order."""
    doc_context = document.get("@context")
    mine = list(proof_context) if isinstance(proof_context, list) else [proof_context]
    theirs = list(doc_context) if isinstance(doc_context, list) else [doc_context]
    return theirs[: len(mine)] == mine


Resolver = Callable[[str], Ed25519PublicKey | None]


def verify_proof(secured: Mapping[str, Any], resolve: Resolver = key_of_method) -> ProofCheck:
    """Verify the ``eddsa-jcs-2022`` proof of a secured document (§3.3.2): the key is the one ``resolve`` finds
    for the proof's verification method (by default: a did:key's own)."""
    proof = secured.get("proof")
    if not isinstance(proof, dict):
        return _fail("没有证明(proof)或格式错误", "no proof, or a proof that is not one object")
    method = proof.get("verificationMethod")
    method = method if isinstance(method, str) else None
    if proof.get("type") != PROOF_TYPE or proof.get("cryptosuite") != CRYPTOSUITE:
        return _fail(f"证明类型不是 {PROOF_TYPE} / {CRYPTOSUITE}", f"the proof is not a {PROOF_TYPE} of "
                     f"the cryptosuite {CRYPTOSUITE}", method)  # fmt: skip
    value = proof.get("proofValue")
    try:
        signature = from_multibase(value) if isinstance(value, str) else b""
    except ValueError:
        signature = b""
    if len(signature) != 64:
        return _fail("签名值(proofValue)不是 base58btc 编码的 64 字节签名", "the proofValue is not a 64-byte "
                     "signature in multibase base58btc", method)  # fmt: skip
    options = {k: v for k, v in proof.items() if k != "proofValue"}
    unsecured = {k: v for k, v in secured.items() if k != "proof"}
    if "@context" in options:
        if not _context_prefix(secured, options["@context"]):
            return _fail("证明的 @context 与证照的 @context 不一致", "the proof's @context is not the start of the "
                         "document's @context", method)  # fmt: skip
        unsecured["@context"] = options["@context"]
    key = resolve(method) if method else None
    if key is None:
        return _fail("无法解析签名公钥(verificationMethod)", "the proof's verificationMethod names no key this "
                     "verifier can resolve (a did:key)", method)  # fmt: skip
    try:
        key.verify(signature, hash_data(unsecured, options))
    except InvalidSignature:
        return _fail("签名无效:证照内容在签发后被改动,或不是该印章签发", "the signature does not verify: the "
                     "credential was changed after it was signed, or another key signed it", method)  # fmt: skip
    return ProofCheck(True, method)


def status_entries(list_urls: Mapping[Any, str], index: int) -> list[Document]:
    """The credential's ``credentialStatus``: one ``BitstringStatusListEntry`` per purpose (revocation,
    suspension) at the same index of each purpose's list."""
    return [{"id": f"{url}#{index}", "type": "BitstringStatusListEntry", "statusPurpose": purpose,
             "statusListIndex": str(index), "statusListCredential": url}
            for purpose, url in list_urls.items()]  # fmt: skip


def credential(
    *,
    credential_id: str,
    contexts: Sequence[str],
    types: Sequence[str],
    issuer: Mapping[str, Any],
    valid_from: str,
    valid_until: str | None,
    subject: Mapping[str, Any],
    schema_url: str | None = None,
    status: Sequence[Mapping[str, Any]] = (),
    name: str | None = None,
) -> Document:
    """An unsigned credential (VC Data Model 2.0): ``@context`` starts with the credentials/v2 context."""
    doc: Document = {"@context": [VC_V2, *[c for c in contexts if c != VC_V2]], "id": credential_id,
                     "type": ["VerifiableCredential", *[t for t in types if t != "VerifiableCredential"]]}  # fmt: skip
    if name:
        doc["name"] = name
    doc["issuer"] = dict(issuer)
    doc["validFrom"] = valid_from
    if valid_until:
        doc["validUntil"] = valid_until
    doc["credentialSubject"] = dict(subject)
    if schema_url:
        doc["credentialSchema"] = {"id": schema_url, "type": "JsonSchema"}
    if status:
        doc["credentialStatus"] = [dict(s) for s in status] if len(status) > 1 else dict(status[0])
    return doc
