"""The published test vector of eddsa-jcs-2022 (W3C VC Data Integrity EdDSA Cryptosuites v1.0, Appendix B,
"Representation: eddsa-jcs-2022"): the AlumniCredential signed with the published key pair. Each intermediate
value (canonical forms, hashes, signature) and the proofValue are reproduced byte for byte, and the signed
credential verifies; one changed character fails."""

from __future__ import annotations

import hashlib

from cityos.onestop.credentials import (
    canonical,
    hash_data,
    multikey,
    private_from_multikey,
    proof_config,
    public_from_multikey,
    sign,
    verify_proof,
)

PUBLIC = "z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"
PRIVATE = "z3u2en7t5LR2WtQH5PfFqMqwVHBeXouLzo6haApm8XHqvjxq"
METHOD = f"did:key:{PUBLIC}#{PUBLIC}"
CREATED = "2023-02-24T23:36:38Z"
UNSECURED = {
    "@context": ["https://www.w3.org/ns/credentials/v2", "https://www.w3.org/ns/credentials/examples/v2"],
    "id": "urn:uuid:58172aac-d8ba-11ed-83dd-0b3aef56cc33",
    "type": ["VerifiableCredential", "AlumniCredential"],
    "name": "Alumni Credential",
    "description": "A minimum viable example of an Alumni Credential.",
    "issuer": "https://vc.example/issuers/5678",
    "validFrom": "2023-01-01T00:00:00Z",
    "credentialSubject": {"id": "did:example:abcdefgh", "alumniOf": "The School of Examples"},
}
CANONICAL_DOCUMENT = (
    '{"@context":["https://www.w3.org/ns/credentials/v2","https://www.w3.org/ns/credentials/examples/v2"],'
    '"credentialSubject":{"alumniOf":"The School of Examples","id":"did:example:abcdefgh"},'
    '"description":"A minimum viable example of an Alumni Credential.",'
    '"id":"urn:uuid:58172aac-d8ba-11ed-83dd-0b3aef56cc33","issuer":"https://vc.example/issuers/5678",'
    '"name":"Alumni Credential","type":["VerifiableCredential","AlumniCredential"],"validFrom":"2023-01-01T00:00:00Z"}'
)
CANONICAL_PROOF_CONFIG = (
    '{"@context":["https://www.w3.org/ns/credentials/v2","https://www.w3.org/ns/credentials/examples/v2"],'
    '"created":"2023-02-24T23:36:38Z","cryptosuite":"eddsa-jcs-2022","proofPurpose":"assertionMethod",'
    '"type":"DataIntegrityProof","verificationMethod":"did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2#'
    'z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"}'
)
DOCUMENT_HASH = "59b7cb6251b8991add1ce0bc83107e3db9dbbab5bd2c28f687db1a03abc92f19"
PROOF_CONFIG_HASH = "66ab154f5c2890a140cb8388a22a160454f80575f6eae09e5a097cabe539a1db"
SIGNATURE_HEX = (
    "407cd12654b33d718ecbb99179a1506daaa849450bf3fc523cce3e1c96f8b803"
    "51da3f253d725c6f00b07c9e5448d50b3ef78012b9ab54255116d069c6dd2808"
)
PROOF_VALUE = "z2HnFSSPPBzR36zdDgK8PbEHeXbR56YF24jwMpt3R1eHXQzJDMWS93FCzpvJpwTWd3GAVFuUfjoJdcnTMuVor51aX"


def test_the_key_pair_is_the_published_one() -> None:
    key = private_from_multikey(PRIVATE)
    assert multikey(key.public_key()) == PUBLIC
    assert multikey(public_from_multikey(PUBLIC)) == PUBLIC


def test_each_intermediate_value_is_the_published_one() -> None:
    config = proof_config(UNSECURED, method=METHOD, created=CREATED)
    assert canonical(UNSECURED).decode() == CANONICAL_DOCUMENT
    assert canonical(config).decode() == CANONICAL_PROOF_CONFIG
    assert hashlib.sha256(canonical(UNSECURED)).hexdigest() == DOCUMENT_HASH
    assert hashlib.sha256(canonical(config)).hexdigest() == PROOF_CONFIG_HASH
    assert hash_data(UNSECURED, config).hex() == PROOF_CONFIG_HASH + DOCUMENT_HASH
    assert private_from_multikey(PRIVATE).sign(hash_data(UNSECURED, config)).hex() == SIGNATURE_HEX


def test_the_proof_value_is_reproduced_byte_for_byte_and_verifies() -> None:
    secured = sign(UNSECURED, private_from_multikey(PRIVATE), created=CREATED)
    assert secured["proof"] == {
        "type": "DataIntegrityProof",
        "cryptosuite": "eddsa-jcs-2022",
        "created": CREATED,
        "verificationMethod": METHOD,
        "proofPurpose": "assertionMethod",
        "@context": UNSECURED["@context"],
        "proofValue": PROOF_VALUE,
    }
    assert verify_proof(secured).ok


def test_one_changed_character_fails_with_the_reason() -> None:
    secured = sign(UNSECURED, private_from_multikey(PRIVATE), created=CREATED)
    tampered = {**secured, "credentialSubject": {"id": "did:example:abcdefgi", "alumniOf": "The School of Examples"}}
    check = verify_proof(tampered)
    assert not check.ok
    assert "签名无效" in check.reason_zh and "does not verify" in check.reason_en


def test_a_proof_context_that_is_not_the_documents_fails() -> None:
    secured = sign(UNSECURED, private_from_multikey(PRIVATE), created=CREATED)
    moved = {**secured, "@context": ["https://www.w3.org/ns/credentials/v2"]}
    assert "@context" in verify_proof(moved).reason_en
