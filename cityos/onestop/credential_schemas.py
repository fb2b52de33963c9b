"""API shapes of e-certificates, office seals and verification: camelCase on the wire. The credentials
themselves (and the status lists) travel as the W3C documents they are."""

from __future__ import annotations

from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from cityos.onestop.certificate_types import CertificateType
from cityos.onestop.credential_verify import CheckName, Seal, StatusState, Verification
from cityos.onestop.credential_workflow import CredentialState, StatusAction
from cityos.onestop.credentials import DID_KEY
from cityos.onestop.wallet import IssuedCredential, StatusEvent

MAX_CLAIMS = 64


class Shape(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class SealPublic(Shape):
    """An office seal (电子印章): the public key verifiers check credentials against."""

    department: str
    name: str
    id: str = Field(..., description="the seal's did:key (the credentials' issuer id)")
    verification_method: str = Field(..., description="did:key:z6Mk…#z6Mk…, as the proofs name it")
    public_key_multibase: str = Field(..., description="the Ed25519 public key as a Multikey (z6Mk…)")
    created_at: str

    @classmethod
    def of(cls, seal: Seal) -> SealPublic:
        return cls(department=seal.department, name=seal.name, id=seal.did,
                   verification_method=f"{DID_KEY}{seal.key}#{seal.key}", public_key_multibase=seal.key,
                   created_at=seal.created_at)  # fmt: skip


class ClaimPublic(Shape):
    name: str
    label: str
    type: str
    required: bool


class CertificateTypePublic(Shape):
    code: str
    name: str
    name_en: str
    catalogue_name: str = Field(..., description="the national e-certificate catalogue's name (证照名称)")
    catalogue_code: str | None = Field(None, description="the catalogue's type code, when the city filled it in")
    subject: str
    department: str
    office: str
    valid_years: int | None
    schema_url: str
    claims: list[ClaimPublic]

    @classmethod
    def of(cls, kind: CertificateType, schema_url: str) -> CertificateTypePublic:
        return cls(code=kind.code, name=kind.name, name_en=kind.name_en, catalogue_name=kind.catalogue_name,
                   catalogue_code=kind.catalogue_code, subject=kind.subject, department=kind.department,
                   office=kind.office, valid_years=kind.valid_years, schema_url=schema_url,
                   claims=[ClaimPublic(name=c.name, label=c.label, type=c.type, required=c.required)
                           for c in kind.claims])  # fmt: skip


class IssueIn(Shape):
    """Issue an e-certificate: its type, its holder (a registry URN, or the ID number or credit code it is made
    from), its claims; the issuing office is the caller's department (an operator names it)."""

    model_config = ConfigDict(extra="forbid")

    certificate_type: str = Field(..., min_length=1, max_length=64)
    holder: str | None = Field(None, max_length=128, description="urn:ngsi-ld:Person:… or urn:ngsi-ld:Organization:…")
    id_card: str | None = Field(None, max_length=32, description="instead of holder: a person's ID number")
    credit_code: str | None = Field(None, max_length=32, description="instead of holder: an enterprise's credit code")
    claims: dict[str, Any] = Field(..., max_length=MAX_CLAIMS)
    issuer: str | None = Field(None, max_length=64, description="the issuing department (default: the caller's)")
    valid_until: AwareDatetime | None = None


class StatusIn(Shape):
    model_config = ConfigDict(extra="forbid")

    action: StatusAction = Field(..., description="revoke | suspend | reinstate")
    reason: str | None = Field(None, max_length=2000)


class CredentialEventPublic(Shape):
    action: str
    by: str
    by_department: str | None
    at: str
    from_state: str | None
    to_state: str
    reason: str | None

    @classmethod
    def of(cls, ev: StatusEvent) -> CredentialEventPublic:
        return cls(action=ev.action, by=ev.by, by_department=ev.by_department, at=ev.at, from_state=ev.from_state,
                   to_state=ev.to_state, reason=ev.reason)  # fmt: skip


class CredentialSummary(Shape):
    id: str
    certificate_type: str
    name: str
    issuer: str
    holder: str
    state: CredentialState
    valid_from: str
    valid_until: str | None
    download: str = Field(..., description="where the holder downloads the signed credential")

    @classmethod
    def of(cls, found: IssuedCredential) -> CredentialSummary:
        return cls(id=found.id, certificate_type=found.certificate_type, name=str(found.document.get("name", "")),
                   issuer=found.issuer, holder=found.holder, state=found.state, valid_from=found.valid_from,
                   valid_until=found.valid_until, download=f"/onestop/credentials/{found.id}")  # fmt: skip


class CredentialPublic(CredentialSummary):
    """A credential with its status history and the signed document."""

    history: list[CredentialEventPublic]
    credential: dict[str, Any] = Field(..., description="the signed W3C Verifiable Credential")

    @classmethod
    def full(cls, found: IssuedCredential) -> CredentialPublic:
        base = CredentialSummary.of(found).model_dump()
        return cls(**base, history=[CredentialEventPublic.of(e) for e in found.history], credential=found.document)


class CheckPublic(Shape):
    name: CheckName
    label_zh: str
    label_en: str
    ok: bool
    reason_zh: str
    reason_en: str


class VerificationPublic(Shape):
    """Each check of a credential (signature, period of validity, office seal, status), with the reasons of
    those that fail, zh-CN and English."""

    ok: bool
    status: StatusState
    checks: list[CheckPublic]
    credential_id: str | None
    types: list[str]
    issuer: str | None
    office: str | None
    subject: str | None

    @classmethod
    def of(cls, found: Verification) -> VerificationPublic:
        checks = [CheckPublic(name=c.name, label_zh=c.label_zh, label_en=c.label_en, ok=c.ok, reason_zh=c.reason_zh,
                              reason_en=c.reason_en) for c in found.checks]  # fmt: skip
        return cls(ok=found.ok, status=found.status, checks=checks, credential_id=found.credential_id,
                   types=list(found.types), issuer=found.issuer, office=found.office,
                   subject=found.subject)  # fmt: skip
