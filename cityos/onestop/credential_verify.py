"""Verify an e-certificate (电子证照核验): its signature, its period of validity, its status (revoked,
suspended) in the office's status lists, and that the key that sealed it is an office seal (电子印章) the city
publishes. Pure: the seals and a lookup of status list credentials are given, so that the API, the offline
CLI and the tests share one verifier. Every failed check says why, zh-CN first, English second."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from cityos.onestop import status_list
from cityos.onestop.credentials import DID_KEY, key_of_method, multikey, verify_proof

CheckName = Literal["signature", "validity", "seal", "status"]
StatusState = Literal["active", "revoked", "suspended", "unknown"]
LABELS: dict[CheckName, tuple[str, str]] = {
    "signature": ("签名", "signature"),
    "validity": ("有效期", "period of validity"),
    "seal": ("电子印章", "office seal"),
    "status": ("状态", "status"),
}


@dataclass(frozen=True)
class Seal:
    """An office's seal as the city publishes it: the department, its name and its public key (Multikey)."""

    department: str
    name: str
    key: str  # publicKeyMultibase, z6Mk…
    created_at: str = ""

    @property
    def did(self) -> str:
        return DID_KEY + self.key


@dataclass(frozen=True)
class OpenedList:
    """A status list as a verifier holds it once it checked the list's own proof: who signed it (the issuer's
    id, when its proof verified with a known seal) and its bitstring. A verifier opens a list once per read
    of it (:func:`open_list`), not once per credential."""

    issuer: str | None
    bits: bytes
    reason_zh: str = ""
    reason_en: str = ""


# a status list credential's URL -> the credential as read (checked at each use), or the list opened already
StatusLookup = Callable[[str], "Mapping[str, Any] | OpenedList | None"]


@dataclass(frozen=True)
class Check:
    name: CheckName
    ok: bool
    reason_zh: str = ""
    reason_en: str = ""

    @property
    def label_zh(self) -> str:
        return LABELS[self.name][0]

    @property
    def label_en(self) -> str:
        return LABELS[self.name][1]


@dataclass(frozen=True)
class Verification:
    """The answer of a verification: each check, and the credential's status (active, revoked, suspended;
    unknown when no status list could be read)."""

    checks: tuple[Check, ...]
    status: StatusState
    credential_id: str | None = None
    types: tuple[str, ...] = ()
    issuer: str | None = None  # the issuing office's name as the credential states it
    office: str | None = None  # the department whose seal made it, when it is a known seal
    subject: str | None = None

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    def check(self, name: CheckName) -> Check:
        return next(c for c in self.checks if c.name == name)


def _time(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        t = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def check_validity(credential: Mapping[str, Any], now: datetime) -> Check:
    start, end = _time(credential.get("validFrom")), credential.get("validUntil")
    if start is None:
        return Check("validity", False, "缺少或无法识别生效时间(validFrom)", "validFrom is missing or not a date-time")
    if now < start:
        return Check("validity", False, f"尚未生效:{start.isoformat()} 起有效", f"not valid yet: valid from {start}")
    if end is not None:
        until = _time(end)
        if until is None:
            return Check("validity", False, "无法识别失效时间(validUntil)", "validUntil is not a date-time")
        if now >= until:
            return Check("validity", False, f"已过有效期:{until.isoformat()} 失效", f"expired on {until}")
    return Check("validity", True)


def _issuer_id(credential: Mapping[str, Any]) -> str | None:
    issuer = credential.get("issuer")
    found = issuer.get("id") if isinstance(issuer, dict) else issuer
    return found if isinstance(found, str) else None


def check_seal(credential: Mapping[str, Any], method: str | None,
               seals: Mapping[str, Seal]) -> tuple[Check, Seal | None]:  # fmt: skip
    """The proof's key is a published office seal, and the credential's issuer is that office's did:key."""
    key = key_of_method(method) if method else None
    seal = seals.get(multikey(key)) if key is not None else None
    if seal is None:
        return Check("seal", False, "签名公钥不是本市公布的电子印章", "the signing key is not one of the office seals "
                     "the city publishes (GET /onestop/seals)"), None  # fmt: skip
    if _issuer_id(credential) != seal.did:
        return Check("seal", False, f"签发机关与电子印章({seal.name})不符", f"the issuer is not the office whose "
                     f"seal signed it ({seal.department})"), seal  # fmt: skip
    return Check("seal", True), seal


def _entries(credential: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    status = credential.get("credentialStatus")
    found = status if isinstance(status, list) else [status] if isinstance(status, dict) else []
    return [e for e in found if isinstance(e, dict) and e.get("type") == "BitstringStatusListEntry"]


def open_list(listed: Mapping[str, Any], seals: Mapping[str, Seal]) -> OpenedList:
    """Check a status list credential's proof (a known seal's) and decode its bitstring."""
    proof = verify_proof(listed)
    key = key_of_method(proof.method) if proof.method else None
    if not proof.ok or key is None or multikey(key) not in seals:
        return OpenedList(None, b"", "状态列表的签名无效或不是电子印章所签", "the status list's proof does not verify "
                          "with an office seal")  # fmt: skip
    subject = listed.get("credentialSubject")
    encoded = subject.get("encodedList") if isinstance(subject, dict) else None
    try:
        bits = status_list.decode(encoded) if isinstance(encoded, str) else b""
    except ValueError as exc:
        return OpenedList(None, b"", f"状态列表无法解码:{exc}", f"the status list does not decode: {exc}")
    return OpenedList(_issuer_id(listed), bits)


def _entry_bit(entry: Mapping[str, Any], issuer: str | None, seals: Mapping[str, Seal],
               lookup: StatusLookup) -> tuple[bool | None, str, str]:  # fmt: skip
    """Whether the entry's bit is set (None: unknown, with the reason)."""
    url = entry.get("statusListCredential")
    try:
        index = int(str(entry.get("statusListIndex")))
    except ValueError:
        return None, "状态索引(statusListIndex)不是整数", "statusListIndex is not an integer"
    listed = lookup(url) if isinstance(url, str) else None
    if listed is None:
        return None, f"无法读取状态列表 {url}", f"the status list {url} could not be read"
    opened = listed if isinstance(listed, OpenedList) else open_list(listed, seals)
    if opened.issuer is None:
        return None, opened.reason_zh, opened.reason_en
    if opened.issuer != issuer:
        return None, "状态列表不是签发机关所签", "the status list is not signed by the credential's issuer"
    try:
        return status_list.is_set(opened.bits, index), "", ""
    except IndexError as exc:
        return None, f"状态列表无法解码:{exc}", f"the status list does not hold the index: {exc}"


def check_status(credential: Mapping[str, Any], seals: Mapping[str, Seal],
                 lookup: StatusLookup) -> tuple[Check, StatusState]:  # fmt: skip
    entries = _entries(credential)
    if not entries:
        return Check("status", False, "证照没有状态信息(credentialStatus)", "the credential has no credentialStatus"), \
            "unknown"  # fmt: skip
    state: StatusState = "active"
    for entry in entries:
        bit, zh, en = _entry_bit(entry, _issuer_id(credential), seals, lookup)
        if bit is None:
            return Check("status", False, zh, en), "unknown"
        if bit and entry.get("statusPurpose") == "revocation":
            state = "revoked"
        elif bit and entry.get("statusPurpose") == "suspension" and state != "revoked":
            state = "suspended"
    if state == "revoked":
        return Check("status", False, "证照已被签发机关撤销(吊销)", "the issuing office revoked the credential"), state
    if state == "suspended":
        return Check("status", False, "证照已被签发机关暂停使用", "the issuing office suspended the credential"), state
    return Check("status", True), state


def verify(credential: Mapping[str, Any], known_seals: Mapping[str, Seal], status_lookup: StatusLookup,
           now: datetime) -> Verification:  # fmt: skip
    """Check a credential's signature, validity, seal and status (``known_seals``: by their Multikey)."""
    proof = verify_proof(credential)
    signature = Check("signature", proof.ok, proof.reason_zh, proof.reason_en)
    seal_check, seal = check_seal(credential, proof.method, known_seals)
    status_check, state = check_status(credential, known_seals, status_lookup)
    issuer = credential.get("issuer")
    subject = credential.get("credentialSubject")
    types = credential.get("type")
    return Verification(
        checks=(signature, check_validity(credential, now), seal_check, status_check),
        status=state,
        credential_id=credential.get("id") if isinstance(credential.get("id"), str) else None,
        types=tuple(t for t in types if isinstance(t, str)) if isinstance(types, list) else (),
        issuer=issuer.get("name") if isinstance(issuer, dict) and isinstance(issuer.get("name"), str) else None,
        office=seal.department if seal else None,
        subject=subject.get("id") if isinstance(subject, dict) and isinstance(subject.get("id"), str) else None,
    )
