"""E-certificates over the runtime (电子证照, issue 20 item 5): issue a certificate into its holder's wallet
(证照夹), read a wallet and one credential, revoke / suspend / reinstate one (the issuing office only), the
offices' status lists as signed credentials, and verification against this city's seals and lists.

A credential's subject is its holder's stable URN: the base registries' keyed id (a person's is a keyed hash of
the ID number, never the number; an enterprise's carries its public credit code), as the data hub names them.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import Connection

from cityos import datahub
from cityos.onestop import certificate_types as types
from cityos.onestop import credential_store as store
from cityos.onestop import status_list
from cityos.onestop.credential_errors import (
    CredentialNotFound,
    InvalidCredentialRequest,
    NotTheIssuer,
    StatusMoveRefused,
)
from cityos.onestop.credential_verify import OpenedList, Seal, Verification, verify
from cityos.onestop.credential_workflow import LISTED, CredentialState, StatusAction, allowed, next_state
from cityos.onestop.credentials import credential, sign, status_entries
from cityos.onestop.seals import OfficeSeal, find, published, ring, status_indexes
from cityos.runtime import Runtime

HolderKind = Literal["person", "enterprise"]
REGISTRY_OF: dict[HolderKind, str] = {"person": "persons", "enterprise": "legal-entities"}
HOLDER_PREFIXES = ("urn:ngsi-ld:Person:", "urn:ngsi-ld:Organization:")
MAX_VALID_YEARS = 100


@dataclass(frozen=True)
class StatusEvent:
    action: str
    by: str
    by_department: str | None
    at: str
    from_state: str | None
    to_state: str
    reason: str | None


@dataclass(frozen=True)
class IssuedCredential:
    """A credential as the wallet keeps it: the signed document and its status now."""

    id: str
    holder: str
    certificate_type: str
    issuer: str  # the issuing department
    state: CredentialState
    valid_from: str
    valid_until: str | None
    status_index: int
    document: dict[str, Any]
    history: tuple[StatusEvent, ...] = ()

    @property
    def filename(self) -> str:
        return f"{self.certificate_type}-{self.id.removeprefix('urn:uuid:')}.json"


def holder_id(rt: Runtime, kind: HolderKind, key: str) -> str:
    """The holder's URN from an ID number (person) or a unified social credit code (enterprise): the registry's
    keyed id the data hub uses."""
    return datahub.registry_entity_id(rt, REGISTRY_OF[kind], key)


def _stamp(t: datetime) -> str:
    return t.astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def base_url(rt: Runtime) -> str:
    return rt.settings.credential_base_url.rstrip("/")


def list_url(rt: Runtime, department: str, purpose: str) -> str:
    return f"{base_url(rt)}/onestop/status/{department}/{purpose}"


def _tenant(rt: Runtime, tenant: str | None) -> str:
    return tenant or rt.settings.default_tenant


def _kind(code: str) -> types.CertificateType:
    kind = types.catalogue().get(code)
    if kind is None:
        raise InvalidCredentialRequest(f"{code!r} is not an e-certificate type: GET /onestop/certificate-types lists "
                                       "them", field="certificateType")  # fmt: skip
    return kind


def _office(kind: types.CertificateType, department: str) -> str:
    return kind.office if department == kind.department else department


def _valid_until(kind: types.CertificateType, now: datetime, valid_until: datetime | None) -> datetime | None:
    if valid_until is None:
        return now.replace(year=now.year + kind.valid_years) if kind.valid_years else None
    if valid_until.tzinfo is None:
        raise InvalidCredentialRequest("validUntil carries its time zone (e.g. 2030-01-01T00:00:00+08:00)",
                                       field="validUntil")  # fmt: skip
    if not now < valid_until < now + timedelta(days=366 * MAX_VALID_YEARS):
        raise InvalidCredentialRequest(f"validUntil is after now and within {MAX_VALID_YEARS} years",
                                       field="validUntil")  # fmt: skip
    return valid_until


def _check_holder(holder: str) -> None:
    if not holder.startswith(HOLDER_PREFIXES) or len(holder) > 128:
        raise InvalidCredentialRequest("the holder is a person's or an enterprise's registry URN (urn:ngsi-ld:"
                                       "Person:… or urn:ngsi-ld:Organization:…)", field="holder")  # fmt: skip


def _document(rt: Runtime, kind: types.CertificateType, seal: OfficeSeal, cid: str, holder: str,
              claims: Mapping[str, Any], index: int, start: datetime,
              end: datetime | None) -> dict[str, Any]:  # fmt: skip
    urls = {p: list_url(rt, seal.seal.department, p) for p in status_list.PURPOSES}
    unsigned = credential(
        credential_id=cid,
        contexts=[types.context_url(base_url(rt))],
        types=[kind.code],
        name=kind.name,
        issuer={"id": seal.did, "name": seal.seal.name},
        valid_from=_stamp(start),
        valid_until=_stamp(end) if end else None,
        subject={"id": holder, **claims},
        schema_url=types.schema_url(base_url(rt), kind.code),
        status=status_entries(urls, index),
    )
    return sign(unsigned, seal.private, created=_stamp(start), method=seal.method)


@dataclass(frozen=True)
class IssueRequest:
    """One certificate to issue: its type, holder (a registry URN), claims, issuing department and end."""

    certificate_type: str
    holder: str
    claims: Mapping[str, Any]
    issuer_department: str
    valid_until: datetime | None = None


def issue(rt: Runtime, certificate_type: str, holder: str, claims: Mapping[str, Any], issuer_department: str,
          valid_until: datetime | None = None, *, tenant: str | None = None, by: str = "system",
          now: datetime | None = None) -> IssuedCredential:  # fmt: skip
    """Issue a certificate of ``certificate_type`` to ``holder`` (a registry URN, see :func:`holder_id`) with
    ``claims``, sealed by ``issuer_department`` (its seal made on first use), into the holder's wallet: the
    signed credential. ``valid_until`` None: the type's term (valid_years), or no end. InvalidCredentialRequest
    (400) naming the field; SealSecretMissing (503) outside demo mode without CITYOS_SEAL_SECRET."""
    request = IssueRequest(certificate_type, holder, claims, issuer_department, valid_until)
    # one statement on PostgreSQL (store.insert_credential), committed as it returns: one round trip
    return rt.db.run_one(_prepare(rt, _tenant(rt, tenant), request, by, now or datetime.now(UTC)))


def issue_many(rt: Runtime, requests: Sequence[IssueRequest], *, tenant: str | None = None, by: str = "system",
               now: datetime | None = None) -> list[IssuedCredential]:  # fmt: skip
    """Issue several certificates in one transaction (统一发证: a bundle's certificates, a batch of renewals):
    all or none; each checked as :func:`issue` checks one, before anything is written."""
    tenant, now = _tenant(rt, tenant), now or datetime.now(UTC)
    writes = [_prepare(rt, tenant, r, by, now) for r in requests]
    return rt.db.run_write(lambda conn: [write(conn) for write in writes])


def _prepare(rt: Runtime, tenant: str, request: IssueRequest, by: str,
             now: datetime) -> Callable[[Connection], IssuedCredential]:  # fmt: skip
    """Check a request, open its seal (once per process), take a status index (from the block this process
    reserved) and sign the credential; the write that stores it."""
    certificate_type, holder, claims = request.certificate_type, request.holder, request.claims
    issuer_department, valid_until = request.issuer_department, request.valid_until
    kind = _kind(certificate_type)
    if issuer_department != kind.department:  # a type is sealed by its own office, never another's
        raise InvalidCredentialRequest(f"certificateType: {kind.code} ({kind.name}) is issued by {kind.department}, "
                                       f"not {issuer_department}", field="certificateType")  # fmt: skip
    _check_holder(holder)
    problem = types.claims_problem(kind, dict(claims))
    if problem:
        raise InvalidCredentialRequest(f"claims.{problem[0]} {problem[1]}", field=f"claims.{problem[0]}")
    end = _valid_until(kind, now, valid_until)
    seal = ring(rt).seal(tenant, issuer_department, _office(kind, issuer_department))
    cid = f"urn:uuid:{uuid.uuid4()}"
    index = status_indexes(rt).take(tenant, issuer_department)
    doc = _document(rt, kind, seal, cid, holder, claims, index, now, end)  # signed before the write lock is taken

    def write(conn: Connection) -> IssuedCredential:
        found = IssuedCredential(cid, holder, kind.code, issuer_department, "active", doc["validFrom"],
                                 doc.get("validUntil"), index, doc)  # fmt: skip
        row = {"tenant": tenant, "id": cid, "holder": holder, "certificate_type": kind.code,
               "issuer": issuer_department, "status_index": index, "state": "active",
               "valid_from": found.valid_from, "valid_until": found.valid_until,
               "issued_at_ms": int(now.timestamp() * 1000), "document": doc, "version": 1}  # fmt: skip
        history = {
            "tenant": tenant,
            "credential_id": cid,
            "seq": 1,
            "at": _stamp(now),
            "action": "issue",
            "by": by,
            "by_department": issuer_department,
            "reason": None,
            "from_state": None,
            "to_state": "active",
        }
        store.insert_credential(conn, row, history)
        return found

    return write


def _event(row: Mapping[str, Any]) -> StatusEvent:
    return StatusEvent(row["action"], row["by"], row["by_department"], row["at"], row["from_state"], row["to_state"],
                       row["reason"])  # fmt: skip


def _issued(row: Mapping[str, Any], history: list[dict[str, Any]] | None = None) -> IssuedCredential:
    return IssuedCredential(row["id"], row["holder"], row["certificate_type"], row["issuer"], row["state"],
                            row["valid_from"], row["valid_until"], row["status_index"], row["document"],
                            tuple(_event(h) for h in history or []))  # fmt: skip


def wallet(rt: Runtime, holder: str, *, tenant: str | None = None) -> list[IssuedCredential]:
    """The holder's certificates (证照夹), newest first, each with its status now."""
    with rt.db.connect() as conn:
        return [_issued(r) for r in store.by_holder(conn, _tenant(rt, tenant), holder)]


def get(rt: Runtime, credential_id: str, *, tenant: str | None = None) -> IssuedCredential:
    """One credential with its status history; CredentialNotFound (404)."""
    tenant = _tenant(rt, tenant)
    with rt.db.connect() as conn:
        row = store.get_credential(conn, tenant, credential_id)
        if row is None:
            raise CredentialNotFound(f"no e-certificate {credential_id}: a wallet (GET /onestop/wallet) lists "
                                     "the holder's")  # fmt: skip
        return _issued(row, store.history(conn, tenant, credential_id))


def change_status(rt: Runtime, credential_id: str, action: StatusAction, *, by: str, department: str | None,
                  reason: str | None = None, tenant: str | None = None,
                  now: datetime | None = None) -> IssuedCredential:  # fmt: skip
    """Revoke, suspend or reinstate a credential as ``by`` acting for ``department`` (None: the city, an
    operator or administrator): only its issuing office may. NotTheIssuer (403), StatusMoveRefused (409),
    CredentialNotFound (404). The status lists show the change at their next read."""
    tenant, now = _tenant(rt, tenant), now or datetime.now(UTC)
    found = get(rt, credential_id, tenant=tenant)
    if department is not None and department != found.issuer:
        raise NotTheIssuer(f"only the issuing office ({found.issuer}) changes the status of {credential_id}")
    to = next_state(found.state, action)
    if to is None:
        raise StatusMoveRefused(f"a {found.state} credential cannot be {action}d: allowed now: "
                                f"{', '.join(allowed(found.state)) or 'nothing'}", state=found.state)  # fmt: skip
    history = {"tenant": tenant, "credential_id": credential_id, "seq": len(found.history) + 1, "at": _stamp(now),
               "action": action, "by": by, "by_department": department, "reason": reason, "from_state": found.state,
               "to_state": to}  # fmt: skip
    version = len(found.history)  # one history row per move, the issue included
    moved = rt.db.run_write(lambda conn: store.move(conn, tenant, credential_id, version, to, history))
    if not moved:
        raise StatusMoveRefused(f"{credential_id} changed meanwhile: read it again and retry")
    return get(rt, credential_id, tenant=tenant)


def revoke(rt: Runtime, credential_id: str, **kw: Any) -> IssuedCredential:
    return change_status(rt, credential_id, "revoke", **kw)


def suspend(rt: Runtime, credential_id: str, **kw: Any) -> IssuedCredential:
    return change_status(rt, credential_id, "suspend", **kw)


def reinstate(rt: Runtime, credential_id: str, **kw: Any) -> IssuedCredential:
    return change_status(rt, credential_id, "reinstate", **kw)


def status_list_credential(rt: Runtime, department: str, purpose: status_list.Purpose, *, tenant: str | None = None,
                           now: datetime | None = None) -> dict[str, Any]:  # fmt: skip
    """The office's status list of ``purpose`` as a signed BitstringStatusListCredential; CredentialNotFound
    (404) for an office that has issued nothing."""
    tenant, now = _tenant(rt, tenant), now or datetime.now(UTC)
    known = find(rt, tenant, department)
    if known is None:
        raise CredentialNotFound(f"{department} has issued no e-certificate: GET /onestop/seals lists the offices")
    seal = ring(rt).seal(tenant, department, known.name)
    with rt.db.connect() as conn:
        size = status_list.size_for(store.next_index(conn, tenant, department))
        indexes = store.set_indexes(conn, tenant, department, LISTED[purpose])
    url = list_url(rt, department, purpose)
    unsigned = status_list.list_credential(
        url=url, issuer={"id": seal.did, "name": seal.seal.name}, purpose=purpose,
        encoded=status_list.encode(indexes, size), valid_from=_stamp(now))  # fmt: skip
    return sign(unsigned, seal.private, created=_stamp(now))


def opened_list(rt: Runtime, tenant: str, department: str, purpose: status_list.Purpose) -> OpenedList | None:
    """The office's status list as this server holds it (its own bits, no proof to check); None when the office
    issued nothing."""
    known = find(rt, tenant, department)
    if known is None:
        return None
    with rt.db.connect() as conn:
        size = status_list.size_for(store.next_index(conn, tenant, department))
        indexes = store.set_indexes(conn, tenant, department, LISTED[purpose])
    return OpenedList(known.did, status_list.bitstring(indexes, size))


def seals_by_key(rt: Runtime, tenant: str | None = None) -> dict[str, Seal]:
    return {s.key: s for s in published(rt, _tenant(rt, tenant))}


def verify_here(rt: Runtime, document: Mapping[str, Any], *, tenant: str | None = None,
                now: datetime | None = None) -> Verification:  # fmt: skip
    """Verify a credential against this city's seals and status lists (read here, never fetched from another
    host: a list URL not under CITYOS_CREDENTIAL_BASE_URL is unknown)."""
    tenant = _tenant(rt, tenant)
    prefix = f"{base_url(rt)}/onestop/status/"

    def lookup(url: str) -> OpenedList | None:
        department, _, purpose = url.removeprefix(prefix).partition("/")
        if not url.startswith(prefix) or purpose not in status_list.PURPOSES:
            return None
        return opened_list(rt, tenant, department, purpose)

    return verify(document, seals_by_key(rt, tenant), lookup, now or datetime.now(UTC))
