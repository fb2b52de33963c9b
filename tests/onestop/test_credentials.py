"""E-certificates over the runtime, on SQLite and PostgreSQL: issue into a wallet and verify; a tampered
credential fails with the reason; revoke, suspend, reinstate through the transition table and the status
lists (read by a decoder written here from the Bitstring Status List specification); the office seals kept
encrypted and refused without their secret outside demo mode."""

from __future__ import annotations

import base64
import copy
import zlib
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from pydantic import ValidationError
from sqlalchemy import select

from cityos import onestop
from cityos.config import Settings
from cityos.onestop import status_list
from cityos.onestop.credential_errors import (
    InvalidCredentialRequest,
    NotTheIssuer,
    SealSecretMissing,
    SealUnreadable,
    StatusMoveRefused,
)
from cityos.onestop.credential_tables import seals
from cityos.onestop.seals import SealRing
from cityos.runtime import Runtime

SECRET = "a-test-seal-secret-of-some-length"
ENTERPRISE = "urn:ngsi-ld:Organization:91310101MA1FPX1234"
LICENCE = {
    "entityName": "上海黄浦示例餐饮有限公司", "creditCode": "91310101MA1FPX1234", "entityType": "有限责任公司",
    "legalRepresentative": "张三", "establishedOn": "2024-03-01", "domicile": "上海市黄浦区示例路1号",
    "businessScope": "餐饮服务",
}  # fmt: skip
pytestmark = pytest.mark.settings(seal_secret=SECRET)


def _issue(rt: Runtime, **kw: Any) -> onestop.IssuedCredential:
    return onestop.issue_credential(rt, "BusinessLicence", ENTERPRISE, LICENCE, "market-regulation", **kw)


def spec_bit(encoded: str, index: int) -> bool:
    """The bit at ``index`` of an encodedList, read as the specification says and nothing of ours: multibase
    base64url without padding ('u'), GZIP, index 0 the left-most bit of the first byte."""
    assert encoded[0] == "u"
    raw = base64.urlsafe_b64decode(encoded[1:] + "=" * (-len(encoded[1:]) % 4))
    bits = zlib.decompress(raw, wbits=31)  # 31: the GZIP wrapper
    assert len(bits) * 8 >= 131_072
    return (bits[index // 8] >> (7 - index % 8)) & 1 == 1


def test_an_issued_credential_is_in_the_wallet_and_verifies(rt: Runtime) -> None:
    issued = _issue(rt)
    doc = issued.document
    assert doc["@context"][0] == "https://www.w3.org/ns/credentials/v2"
    assert doc["type"] == ["VerifiableCredential", "BusinessLicence"]
    assert doc["id"].startswith("urn:uuid:") and doc["credentialSubject"]["id"] == ENTERPRISE
    assert doc["issuer"]["name"] == "市场监督管理局" and doc["issuer"]["id"].startswith("did:key:z6Mk")
    assert doc["credentialSchema"]["id"].endswith("/onestop/schemas/BusinessLicence.json")
    assert {e["statusPurpose"] for e in doc["credentialStatus"]} == {"revocation", "suspension"}
    assert doc["proof"]["cryptosuite"] == "eddsa-jcs-2022"
    assert [c.id for c in onestop.credential_wallet(rt, ENTERPRISE)] == [issued.id]
    assert onestop.get_credential(rt, issued.id).history[0].action == "issue"
    found = onestop.verify_credential_here(rt, doc)
    assert found.ok and found.status == "active" and found.office == "market-regulation"


def test_status_indexes_are_allocated_once_per_office(rt: Runtime) -> None:
    indexes = [_issue(rt).status_index for _ in range(3)]
    assert indexes == [0, 1, 2]


def test_one_changed_character_of_the_subject_fails_with_the_reason(rt: Runtime) -> None:
    doc = copy.deepcopy(_issue(rt).document)
    doc["credentialSubject"]["legalRepresentative"] = "张四"
    found = onestop.verify_credential_here(rt, doc)
    assert not found.ok and not found.check("signature").ok
    assert "签名无效" in found.check("signature").reason_zh
    assert found.check("seal").ok and found.check("status").ok  # only what is wrong fails


def test_suspend_reinstate_revoke_show_in_the_status_lists(rt: Runtime) -> None:
    first, issued = _issue(rt), _issue(rt)
    ref = {"by": "officer", "department": "market-regulation"}
    onestop.suspend(rt, issued.id, reason="检查中", **ref)
    assert onestop.verify_credential_here(rt, issued.document).status == "suspended"
    suspension = onestop.status_list_credential(rt, "market-regulation", "suspension")
    assert spec_bit(suspension["credentialSubject"]["encodedList"], issued.status_index)
    assert not spec_bit(suspension["credentialSubject"]["encodedList"], first.status_index)
    onestop.reinstate(rt, issued.id, **ref)
    assert onestop.verify_credential_here(rt, issued.document).status == "active"
    onestop.revoke(rt, issued.id, reason="吊销", **ref)
    found = onestop.verify_credential_here(rt, issued.document)
    assert found.status == "revoked" and "撤销" in found.check("status").reason_zh
    revocation = onestop.status_list_credential(rt, "market-regulation", "revocation")
    assert spec_bit(revocation["credentialSubject"]["encodedList"], issued.status_index)
    assert revocation["proof"]["cryptosuite"] == "eddsa-jcs-2022"
    with pytest.raises(StatusMoveRefused):
        onestop.reinstate(rt, issued.id, **ref)
    assert [e.action for e in onestop.get_credential(rt, issued.id).history] == [
        "issue", "suspend", "reinstate", "revoke"]  # fmt: skip
    assert onestop.verify_credential_here(rt, first.document).status == "active"


def test_only_the_issuing_office_changes_a_status(rt: Runtime) -> None:
    issued = _issue(rt)
    with pytest.raises(NotTheIssuer):
        onestop.revoke(rt, issued.id, by="x", department="tobacco")
    assert onestop.revoke(rt, issued.id, by="city-operator", department=None).state == "revoked"


def test_a_claim_missing_or_of_the_wrong_type_is_named(rt: Runtime) -> None:
    with pytest.raises(InvalidCredentialRequest) as missing:
        onestop.issue_credential(rt, "BusinessLicence", ENTERPRISE, {**LICENCE, "entityName": None},
                                 "market-regulation")  # fmt: skip
    assert missing.value.extra["field"] == "claims.entityName"
    with pytest.raises(InvalidCredentialRequest) as wrong:
        onestop.issue_credential(rt, "BusinessLicence", ENTERPRISE, {**LICENCE, "establishedOn": "yesterday"},
                                 "market-regulation")  # fmt: skip
    assert wrong.value.extra["field"] == "claims.establishedOn"
    with pytest.raises(InvalidCredentialRequest):
        onestop.issue_credential(rt, "NoSuchType", ENTERPRISE, {}, "market-regulation")
    with pytest.raises(InvalidCredentialRequest):
        onestop.issue_credential(rt, "BusinessLicence", "110101199003077777", LICENCE, "market-regulation")


def test_an_expired_credential_fails_its_validity(rt: Runtime) -> None:
    start = datetime.now(UTC) - timedelta(days=400)
    issued = _issue(rt, valid_until=start + timedelta(days=30), now=start)
    found = onestop.verify_credential_here(rt, issued.document)
    assert not found.check("validity").ok and found.check("signature").ok


def test_a_person_is_named_by_the_registrys_keyed_id_never_the_number(rt: Runtime, tmp_path: Path) -> None:
    here = Runtime(rt.settings.model_copy(update={"data_dir": tmp_path}), rt.db, rt.bus)
    holder = onestop.holder_id(here, "person", "310101199003077715")
    assert holder.startswith("urn:ngsi-ld:Person:") and "310101199003077715" not in holder
    claims = {"name": "李四", "cardNumber": "A1234", "issuedOn": "2025-01-02"}
    issued = onestop.issue_credential(here, "SocialSecurityCard", holder, claims, "human-resources")
    assert issued.valid_until is not None  # the type's ten years
    assert onestop.credential_wallet(here, holder)[0].certificate_type == "SocialSecurityCard"


def test_a_seal_is_stored_encrypted_and_opens_only_with_its_secret(rt: Runtime) -> None:
    issued = _issue(rt)
    with rt.db.connect() as conn:
        row = conn.execute(select(seals)).mappings().one()
    assert issued.document["issuer"]["id"] == "did:key:" + row["public_key"]
    opened = rt.parts.get(SealRing, lambda: SealRing(rt)).seal("default", "market-regulation", "x")
    raw = opened.private.private_bytes_raw()
    assert raw not in base64.b64decode(row["private_key"])
    other = Runtime(rt.settings.model_copy(update={"seal_secret": "another secret of the seals"}), rt.db, rt.bus)
    with pytest.raises(SealUnreadable):
        _issue(other)
    unset = Runtime(rt.settings.model_copy(update={"seal_secret": None}), rt.db, rt.bus)
    with pytest.raises(SealSecretMissing):
        _issue(unset)


def test_a_short_seal_secret_is_refused_at_start() -> None:
    with pytest.raises(ValidationError, match="CITYOS_SEAL_SECRET has 6 characters: use at least 16"):
        Settings(seal_secret="secret")
    assert Settings(seal_secret="x" * 16).seal_secret == "x" * 16


@pytest.mark.settings(seal_secret=None, demo_mode=True)
def test_demo_mode_seals_without_a_secret(rt: Runtime) -> None:
    assert onestop.verify_credential_here(rt, _issue(rt).document).ok


@hypothesis_settings(suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.sets(st.integers(min_value=0, max_value=status_list.MIN_BITS * 2 - 1), max_size=20))
def test_a_status_list_round_trips_and_reads_as_the_specification_says(indexes: set[int]) -> None:
    size = status_list.size_for(max(indexes, default=0) + 1)
    encoded = status_list.encode(indexes, size)
    bits = status_list.decode(encoded)
    assert len(bits) * 8 == size
    found = {n * 8 + i for n, byte in enumerate(bits) if byte for i in range(8) if status_list.is_set(bits, n * 8 + i)}
    assert found == indexes
    for i in list(indexes)[:5]:
        assert spec_bit(encoded, i)


def test_issue_many_is_all_or_nothing(rt: Runtime) -> None:
    good = onestop.IssueRequest("BusinessLicence", ENTERPRISE, LICENCE, "market-regulation")
    done = onestop.issue_many(rt, [good, good, good])
    assert sorted(c.status_index for c in done) == [0, 1, 2]
    assert all(onestop.verify_credential_here(rt, c.document).ok for c in done)
    bad = onestop.IssueRequest("BusinessLicence", ENTERPRISE, {**LICENCE, "domicile": ""}, "market-regulation")
    with pytest.raises(InvalidCredentialRequest):
        onestop.issue_many(rt, [good, bad])
    assert len(onestop.credential_wallet(rt, ENTERPRISE)) == 3


def test_four_callers_issuing_at_once_get_distinct_indexes_and_stored_credentials(rt: Runtime) -> None:
    _issue(rt)  # the seal made once, before the callers race for it
    with ThreadPoolExecutor(4) as pool:
        issued = list(pool.map(lambda _: _issue(rt), range(80)))
    indexes = [c.status_index for c in issued]
    assert len(set(indexes)) == 80 and min(indexes) == 1
    held = {c.id: c for c in onestop.credential_wallet(rt, ENTERPRISE)}
    assert len(held) == 81 and all(held[c.id].status_index == c.status_index for c in issued)
    assert all(len(onestop.get_credential(rt, c.id).history) == 1 for c in issued[:10])
    assert onestop.verify_credential_here(rt, issued[-1].document).ok
