"""Once-only evidence (两个免于提交): a material the government holds is fetched from a base registry, or taken
from the applicant's e-certificate wallet, at the applicant's explicit request, shown to them, and attached
to the application's material only with their consent; a material they decline is uploaded instead and never
fetched again for that application.

A fetch reads the registry AS the implementing department under its grant for the one-stop scenario
(``一网通办``), through the data resource system (:func:`cityos.datahub.read_records`): masked as the grant says,
refused without one, and appended to the audit chain with the purpose ``一网通办 <item name>``, so that the
person or enterprise finds it in "who used my data". The evidence attached is the values as fetched, their
content hash (SHA-256 of the canonical JSON) and the seq of the fetch's audit record.

Plain functions over the runtime, free of HTTP: the routes (:mod:`cityos.onestop.evidence_routes`) and the
application pages call the same ones.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import orjson

from cityos import datahub
from cityos.onestop import evidence_store as store
from cityos.onestop.evidence_errors import (
    EvidenceMoveRefused,
    EvidenceNotFound,
    EvidenceNotGranted,
    InvalidEvidenceRequest,
    UploadTooLarge,
    UploadTypeRefused,
)
from cityos.onestop.evidence_workflow import EvidenceAction, EvidenceState, Step, step
from cityos.onestop.models import Applicant, ApplicantKind, Material
from cityos.runtime import Runtime

SCENARIO = "一网通办"  # the application scenario of the grants one-stop services read under
ROUTE = "POST /onestop/applications/{id}/materials/{code}/preview"  # the API the audit records name
# a material's registry as a Material names it -> the base registry's name (cityos.datahub.REGISTRIES)
REGISTRY_NAMES = {"person": "persons", "organization": "legal-entities", "enterprise": "legal-entities",
                  "building": "places", "place": "places"}  # fmt: skip
# the applicant kinds whose own record each registry holds (a place's key is given by the form)
OWN_REGISTRY: dict[ApplicantKind, str] = {"person": "persons", "enterprise": "legal-entities"}
# the file types an applicant may upload, by content type: the first bytes each begins with
UPLOAD_TYPES: dict[str, tuple[bytes, ...]] = {
    "application/pdf": (b"%PDF-",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
}
MAX_KEY = 64


class WalletLookup(Protocol):
    """The applicant's e-certificate wallet (电子证照): the credential of ``certificate_type`` that ``holder``
    (the applicant's registry key: an ID number or a credit code) holds, as a W3C Verifiable Credential
    (a JSON object), or None when it holds none. The wallet (:mod:`cityos.onestop.credentials`) is wired by
    the routes; tests pass a small one of their own."""

    def __call__(self, holder: str, certificate_type: str) -> dict[str, Any] | None: ...


def no_wallet(holder: str, certificate_type: str) -> dict[str, Any] | None:
    """A wallet that holds nothing: until the e-certificate wallet is wired, a certificate is uploaded."""
    return None


@dataclass(frozen=True)
class EvidencePreview:
    """What the applicant sees before deciding: the material's values as fetched (masked as the department's
    grant says), where they come from and the audit record of the fetch."""

    application_id: str
    material_code: str
    material_name: str
    source: str  # registry | certificate
    department: str
    values: dict[str, Any]
    labels: dict[str, str]  # item -> its Chinese name (certificates: the credential's fields as they are)
    masked: tuple[str, ...]  # the items shown masked
    content_hash: str
    code: str | None  # the catalogue entry (registry) or the certificate type
    entry_name: str | None
    grant: str | None
    audit_seq: int | None
    fetched_at_ms: int


@dataclass(frozen=True)
class UploadInfo:
    filename: str
    content_type: str
    size: int
    sha256: str
    uploaded_at_ms: int


@dataclass(frozen=True)
class EvidenceStep:
    at_ms: int
    action: str
    by: str
    from_state: str | None
    to_state: str
    audit_seq: int | None
    reason: str | None


@dataclass(frozen=True)
class MaterialEvidence:
    """A material of an application as it stands: its state, the evidence attached (values as fetched, hash,
    audit record) or the file uploaded, and every step taken."""

    application_id: str
    material_code: str
    material_name: str
    source: str
    state: EvidenceState
    department: str | None
    code: str | None
    grant: str | None
    audit_seq: int | None
    values: dict[str, Any] | None
    content_hash: str | None
    fetched_at_ms: int | None
    declined_at_ms: int | None
    upload: UploadInfo | None = None
    history: list[EvidenceStep] = field(default_factory=list)


@dataclass(frozen=True)
class EvidenceSummary:
    """The materials of one application: how many were fetched (with consent), uploaded, declined (the
    applicant refused the fetch; uploaded since or not) and previewed but not decided."""

    application_id: str
    fetched: int
    uploaded: int
    declined: int
    previewed: int
    materials: list[MaterialEvidence]


@dataclass(frozen=True)
class EvidenceTotals:
    """Every application's materials in a tenant, for the 两个免于提交 indicator: ``once_only_rate`` is the share
    of the settled materials (fetched, uploaded, or declined and awaiting upload) that were fetched; None
    when none is settled."""

    materials: int
    fetched: int
    uploaded: int
    declined: int
    awaiting_upload: int
    previewed: int
    once_only_rate: float | None


@dataclass(frozen=True)
class _Fetched:
    values: dict[str, Any]
    labels: dict[str, str]
    masked: tuple[str, ...]
    code: str | None
    entry_name: str | None
    grant: str | None
    audit_seq: int | None


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


def content_hash(values: Mapping[str, Any]) -> str:
    """SHA-256 of the values' canonical JSON (keys sorted, no spaces, UTF-8): what the applicant consented to."""
    return hashlib.sha256(orjson.dumps(dict(values), option=orjson.OPT_SORT_KEYS)).hexdigest()


def _registry(name: str | None, material: Material) -> datahub.Registry:
    wanted = REGISTRY_NAMES.get(name or "", name)
    found = next((r for r in datahub.REGISTRIES if r.name == wanted), None)
    if found is None:
        known = ", ".join(sorted(REGISTRY_NAMES))
        raise InvalidEvidenceRequest(f"material {material.code!r} names the registry {name!r}: one of {known}",
                                     field="material.registry")  # fmt: skip
    return found


def check_applicant(applicant: Applicant) -> Applicant:
    """The applicant with its key trimmed and in capitals; InvalidEvidenceRequest (400) naming what is wrong."""
    registry = next(r for r in datahub.REGISTRIES if r.name == OWN_REGISTRY[applicant.kind])
    key = applicant.key.strip().upper()
    problem = registry.check(key) if len(key) <= MAX_KEY else f"at most {MAX_KEY} characters"
    if problem is not None:
        raise InvalidEvidenceRequest(f"applicant.key: {problem}", field="applicant.key")
    return Applicant(applicant.kind, key)


def _record_key(registry: datahub.Registry, applicant: Applicant, key: str | None, material: Material) -> str:
    """The key of the registry record the material is read from: the applicant's own (a person's, an
    enterprise's), or the one the form gives for a place (a building's code). Another person's or enterprise's
    record is never read on an applicant's word: that material is uploaded."""
    if registry.name in OWN_REGISTRY.values():  # persons and legal entities: the applicant's own record only
        if registry.name != OWN_REGISTRY[applicant.kind] or (
            key is not None and key.strip().upper() != applicant.key.strip().upper()
        ):
            raise InvalidEvidenceRequest(
                f"material {material.code!r} is a record of the {registry.name} registry that is not the "
                "applicant's own: another's record is not fetched on your word; upload the material instead",
                field="key",
            )
        return applicant.key
    if key is None:
        raise InvalidEvidenceRequest(
            f"material {material.code!r} is read from the {registry.name} registry: give the record's key "
            f"({registry.key_name})", field="key")  # fmt: skip
    found = key.strip().upper()
    problem = registry.check(found) if len(found) <= MAX_KEY else f"at most {MAX_KEY} characters"
    if problem is not None:
        raise InvalidEvidenceRequest(f"key: {problem}", field="key")
    return found


def _no_grant(department: str, entry: datahub.CatalogueEntry, detail: str) -> EvidenceNotGranted:
    return EvidenceNotGranted(
        f"{department!r} may not fetch {entry.code} ({entry.name}) for you: it needs a grant of {entry.code} for "
        f"the scenario {SCENARIO!r} from {entry.provider!r}. Upload the material instead. ({detail})",
        code=entry.code, department=department, scenario=SCENARIO,
    )  # fmt: skip


def _from_registry(
    rt: Runtime, tenant: str, department: str, applicant: Applicant, material: Material, item_name: str,
    key: str | None,
) -> _Fetched:  # fmt: skip
    if not material.entry or not material.items:
        raise InvalidEvidenceRequest(f"material {material.code!r} is held in a registry but names no catalogue entry "
                                     "and items", field="material.entry")  # fmt: skip
    registry = _registry(material.registry, material)
    entry = datahub.get_entry(rt, tenant, material.entry)
    by_name = {i.name: i for i in entry.items}
    unknown = [i for i in material.items if i not in by_name]
    key_items = [i.name for i in entry.items if entry.key_of(i) == registry.key_item]
    if unknown or not key_items:
        why = f"has no items {', '.join(unknown)}" if unknown else f"holds no {registry.key_name} ({registry.key_item})"
        raise InvalidEvidenceRequest(f"material {material.code!r}: catalogue entry {entry.code} {why}",
                                     field="material.items")  # fmt: skip
    wanted = _record_key(registry, applicant, key, material)
    reader = datahub.Reader(department, department, False, SCENARIO, f"{SCENARIO} {item_name}")
    try:
        read = datahub.read_records(rt, tenant, entry.code, reader, q=f'{key_items[0]}=="{wanted}"', limit=1,
                                    route=ROUTE)  # fmt: skip
    except datahub.NoGrant as refused:
        raise _no_grant(department, entry, refused.detail) from None
    missing = [i for i in material.items if i not in read.access.shown]
    if missing:
        raise _no_grant(department, entry, f"grant {read.access.grant} leaves out {', '.join(missing)}")
    if not read.records:
        raise EvidenceNotFound(f"the {registry.name} registry holds no record of {registry.key_name} in {entry.code} "
                               f"({entry.name}): upload the material instead", code=entry.code)  # fmt: skip
    record = read.records[0]
    values = {i: record.get(i) for i in material.items}
    return _Fetched(values, {i: by_name[i].zh for i in material.items},
                    tuple(i for i in material.items if i in read.access.masked), entry.code, entry.name,
                    read.access.grant, read.audit_seq)  # fmt: skip


def _from_wallet(wallet: WalletLookup, applicant: Applicant, material: Material) -> _Fetched:
    if not material.certificate_type:
        raise InvalidEvidenceRequest(f"material {material.code!r} is a certificate but names no certificate type",
                                     field="material.certificateType")  # fmt: skip
    credential = wallet(applicant.key, material.certificate_type)
    if credential is None:
        raise EvidenceNotFound(f"your e-certificate wallet holds no {material.name} ({material.certificate_type}): "
                               "upload the material instead", code=material.certificate_type)  # fmt: skip
    return _Fetched(dict(credential), {}, (), material.certificate_type, None, None, None)


def _history(tenant: str, app_id: str, code: str, seq: int, s: Step, by: str, at_ms: int, audit_seq: int | None,
             reason: str | None = None) -> dict[str, Any]:  # fmt: skip
    return {"tenant": tenant, "application_id": app_id, "material_code": code, "seq": seq, "at_ms": at_ms,
            "action": s.action.value, "by": by, "from_state": s.before.value if s.before else None,
            "to_state": s.after.value, "audit_seq": audit_seq, "reason": reason}  # fmt: skip


def _state(row: Mapping[str, Any] | None) -> EvidenceState | None:
    return EvidenceState(row["state"]) if row is not None else None


def _current(rt: Runtime, tenant: str, app_id: str, material: str, applicant: Applicant) -> dict[str, Any] | None:
    with rt.db.connect() as conn:
        row = store.get(conn, tenant, app_id, material)
    if row is not None and (row["applicant"], row["applicant_kind"]) != (applicant.key, applicant.kind):
        raise EvidenceNotFound(f"application {app_id} has no material {material!r} of this applicant")
    return row


def _write(
    rt: Runtime, tenant: str, app_id: str, material: Material, applicant: Applicant, action: EvidenceAction,
    changes: dict[str, Any], by: str, *, department: str | None = None, reason: str | None = None,
    upload: dict[str, Any] | None = None,
) -> dict[str, Any]:  # fmt: skip
    """Take ``action`` on the material's evidence in one transaction: the table's step from the state found,
    the row inserted or rewritten, its history appended (and the file stored, for an upload)."""
    at = _now_ms()
    with rt.db.write() as conn:
        row = store.get(conn, tenant, app_id, material.code)
        if row is not None and (row["applicant"], row["applicant_kind"]) != (applicant.key, applicant.kind):
            raise EvidenceNotFound(f"application {app_id} has no material {material.code!r} of this applicant")
        s = step(_state(row), action, material.code)
        changes = {**changes, "state": s.after.value, "updated_at_ms": at}
        seq = row["version"] + 1 if row is not None else 1
        history = _history(tenant, app_id, material.code, seq, s, by, at, changes.get("audit_seq"), reason)
        if row is None:
            row = {"tenant": tenant, "application_id": app_id, "material_code": material.code,
                   "material_name": material.name, "source": material.source, "applicant_kind": applicant.kind,
                   "applicant": applicant.key, "department": department, "code": None, "grant_id": None,
                   "audit_seq": None, "fetched": None, "content_hash": None, "fetched_at_ms": None,
                   "declined_at_ms": None, "created_at_ms": at, **changes, "version": 1}  # fmt: skip
            store.insert_row(conn, row, history)
        elif not store.move(conn, tenant, app_id, material.code, row["version"], {**changes, "version": seq},
                            history):  # fmt: skip
            raise InvalidEvidenceRequest(f"material {material.code!r} changed meanwhile: look at it and try again")
        if upload is not None:
            store.put_upload(conn, upload)
        return store.get(conn, tenant, app_id, material.code) or row


def _check_app_id(app_id: str, material: str) -> None:
    if not app_id or len(app_id) > 64 or not material or len(material) > 64:
        raise InvalidEvidenceRequest("an application id and a material code are 1 to 64 characters")


def preview(
    rt: Runtime,
    tenant: str,
    department: str,
    applicant: Applicant,
    material: Material,
    scenario: str = SCENARIO,
    *,
    application_id: str,
    item_name: str,
    by: str,
    wallet: WalletLookup = no_wallet,
    key: str | None = None,
) -> EvidencePreview:
    """Fetch ``material`` for ``applicant``'s application, at their explicit request, and show it (previewed).

    Source ``registry``: the record of the applicant (or of ``key``: a building's code the form gives) in the
    material's catalogue entry, read AS ``department`` under its grant for ``scenario`` (一网通办), only the
    material's items, masked as the grant says, audited with the purpose ``一网通办 <item_name>``. Source
    ``certificate``: the applicant's credential of the type, from ``wallet``.

    EvidenceMoveRefused (409) before anything is read when the applicant declined the material (it is never
    fetched again) or has confirmed or uploaded it; EvidenceNotGranted (403) naming the grant to ask for when
    the department holds none (the applicant uploads instead); EvidenceNotFound (404) when there is nothing
    to fetch."""
    _check_app_id(application_id, material.code)
    applicant = check_applicant(applicant)
    if material.source == "upload":
        raise InvalidEvidenceRequest(f"material {material.code!r} ({material.name}) is uploaded, not fetched")
    step(_state(_current(rt, tenant, application_id, material.code, applicant)), EvidenceAction.PREVIEW,
         material.code)  # refused here, before any read, once declined  # fmt: skip
    if material.source == "registry":
        if scenario != SCENARIO:
            raise InvalidEvidenceRequest(f"evidence is fetched under the scenario {SCENARIO!r}", field="scenario")
        got = _from_registry(rt, tenant, department, applicant, material, item_name, key)
    else:
        got = _from_wallet(wallet, applicant, material)
    digest, at = content_hash(got.values), _now_ms()
    changes = {"department": department, "code": got.code, "grant_id": got.grant, "audit_seq": got.audit_seq,
               "fetched": got.values, "content_hash": digest, "fetched_at_ms": at}  # fmt: skip
    _write(rt, tenant, application_id, material, applicant, EvidenceAction.PREVIEW, changes, by, department=department)
    return EvidencePreview(application_id, material.code, material.name, material.source, department, got.values,
                           got.labels, got.masked, digest, got.code, got.entry_name, got.grant, got.audit_seq,
                           at)  # fmt: skip


def confirm(
    rt: Runtime, tenant: str, application_id: str, material: Material, applicant: Applicant, *, by: str,
    content_hash: str | None = None,
) -> MaterialEvidence:  # fmt: skip
    """The applicant consents: the evidence previewed (values as fetched, content hash, audit record) is
    attached to the material (confirmed). With ``content_hash`` (the preview's), EvidenceMoveRefused (409)
    when the evidence is not the one the applicant saw (fetched again since: preview again)."""
    _check_app_id(application_id, material.code)
    applicant = check_applicant(applicant)
    row = _current(rt, tenant, application_id, material.code, applicant)
    if row is not None and content_hash is not None and row["content_hash"] != content_hash:
        raise EvidenceMoveRefused(f"material {material.code!r} is not the evidence you previewed (hash "
                                  f"{content_hash[:12]}…): preview it again and confirm what you see")  # fmt: skip
    _write(rt, tenant, application_id, material, applicant, EvidenceAction.CONFIRM, {}, by,
           reason="申请人确认调取")  # fmt: skip
    return material_evidence(rt, tenant, application_id, material.code)


def decline(
    rt: Runtime, tenant: str, application_id: str, material: Material, applicant: Applicant, *, by: str,
    reason: str | None = None,
) -> MaterialEvidence:  # fmt: skip
    """The applicant refuses the fetch (declined): any values previewed are dropped, the material is to be
    uploaded, and it is never fetched again for this application (a preview is refused before any read)."""
    _check_app_id(application_id, material.code)
    applicant = check_applicant(applicant)
    if reason is not None and len(reason) > 1000:
        raise InvalidEvidenceRequest("reason: at most 1000 characters", field="reason")
    changes = {"fetched": None, "content_hash": None, "declined_at_ms": _now_ms()}
    _write(rt, tenant, application_id, material, applicant, EvidenceAction.DECLINE, changes, by, reason=reason)
    return material_evidence(rt, tenant, application_id, material.code)


def check_upload(rt: Runtime, filename: str, content_type: str, content: bytes) -> str:
    """The upload's content type (without parameters) when it may be stored: UploadTooLarge (413) naming the
    limit, UploadTypeRefused (415) unless it is a PDF, JPEG or PNG by its declared type and its first bytes."""
    limit = rt.settings.onestop_upload_max_bytes
    if len(content) > limit:
        raise UploadTooLarge(f"{filename or 'the file'} is {len(content)} bytes; a material's file is at most "
                             f"{limit} bytes (CITYOS_ONESTOP_UPLOAD_MAX_BYTES)", limit=limit)  # fmt: skip
    kind = content_type.split(";", 1)[0].strip().lower()
    accepted = ", ".join(UPLOAD_TYPES)
    if kind not in UPLOAD_TYPES:
        raise UploadTypeRefused(f"{filename or 'the file'} is {kind or 'of no declared type'}; a material is "
                                f"uploaded as PDF, JPEG or PNG ({accepted})", accepted=list(UPLOAD_TYPES))  # fmt: skip
    if not content:
        raise UploadTypeRefused(f"{filename or 'the file'} is empty", accepted=list(UPLOAD_TYPES))
    if not content.startswith(UPLOAD_TYPES[kind]):
        raise UploadTypeRefused(f"{filename or 'the file'} is declared {kind} but its content is not: upload the "
                                f"file itself as PDF, JPEG or PNG ({accepted})",
                                accepted=list(UPLOAD_TYPES))  # fmt: skip
    return kind


def upload(
    rt: Runtime, tenant: str, application_id: str, material: Material, applicant: Applicant, *, filename: str,
    content_type: str, content: bytes, by: str,
) -> MaterialEvidence:  # fmt: skip
    """Store the applicant's file as the material (uploaded; a new file replaces the old): its metadata and
    bytes in ``onestop_uploads``, in the transaction that moves the material. Size and type are checked
    first (:func:`check_upload`). Not allowed once the applicant confirmed a fetch of the material."""
    _check_app_id(application_id, material.code)
    applicant = check_applicant(applicant)
    name = (filename or "").strip()[:256] or f"{material.code}"
    kind = check_upload(rt, name, content_type, content)
    digest, at = hashlib.sha256(content).hexdigest(), _now_ms()
    row = {"tenant": tenant, "application_id": application_id, "material_code": material.code, "filename": name,
           "content_type": kind, "size": len(content), "sha256": digest, "content": content, "uploaded_at_ms": at,
           "by": by}  # fmt: skip
    changes = {"content_hash": digest, "fetched": None}
    _write(rt, tenant, application_id, material, applicant, EvidenceAction.UPLOAD, changes, by, upload=row)
    return material_evidence(rt, tenant, application_id, material.code)


def _evidence(row: Mapping[str, Any], upload_row: Mapping[str, Any] | None, steps: list[dict[str, Any]]
              ) -> MaterialEvidence:  # fmt: skip
    up = None
    if upload_row is not None:
        up = UploadInfo(upload_row["filename"], upload_row["content_type"], upload_row["size"], upload_row["sha256"],
                        upload_row["uploaded_at_ms"])  # fmt: skip
    history = [EvidenceStep(h["at_ms"], h["action"], h["by"], h["from_state"], h["to_state"], h["audit_seq"],
                            h["reason"]) for h in steps]  # fmt: skip
    return MaterialEvidence(row["application_id"], row["material_code"], row["material_name"], row["source"],
                            EvidenceState(row["state"]), row["department"], row["code"], row["grant_id"],
                            row["audit_seq"], row["fetched"], row["content_hash"], row["fetched_at_ms"],
                            row["declined_at_ms"], up, history)  # fmt: skip


def application_evidence(
    rt: Runtime, tenant: str, application_id: str, *, applicant: Applicant | None = None
) -> list[MaterialEvidence]:
    """Every material of an application that has evidence (fetched, declined or uploaded), with its steps;
    ``applicant``: only theirs."""
    with rt.db.connect() as conn:
        rows = store.of_application(conn, tenant, application_id)
        if applicant is not None:
            key = applicant.key.strip().upper()
            rows = [r for r in rows if (r["applicant_kind"], r["applicant"]) == (applicant.kind, key)]
        files = store.uploads_of(conn, tenant, application_id)
        steps = store.histories(conn, tenant, application_id)
    return [_evidence(r, files.get(r["material_code"]), steps.get(r["material_code"], [])) for r in rows]


def material_evidence(rt: Runtime, tenant: str, application_id: str, code: str) -> MaterialEvidence:
    """One material's evidence; EvidenceNotFound (404) when it has none yet."""
    found = next((m for m in application_evidence(rt, tenant, application_id) if m.material_code == code), None)
    if found is None:
        raise EvidenceNotFound(f"application {application_id} has no evidence for material {code!r} yet")
    return found


def evidence_summary(
    rt: Runtime, tenant: str, application_id: str, *, applicant: Applicant | None = None
) -> EvidenceSummary:
    """How many of an application's materials were fetched, uploaded, declined and previewed, and each
    (``applicant``: only theirs)."""
    found = application_evidence(rt, tenant, application_id, applicant=applicant)

    def n(state: EvidenceState) -> int:
        return sum(1 for m in found if m.state == state)

    declined = sum(1 for m in found if m.declined_at_ms is not None)
    return EvidenceSummary(application_id, n(EvidenceState.CONFIRMED), n(EvidenceState.UPLOADED), declined,
                           n(EvidenceState.PREVIEWED), found)  # fmt: skip


def evidence_totals(rt: Runtime, tenant: str) -> EvidenceTotals:
    """Every application's materials in ``tenant`` by state, and the 两个免于提交 rate: the share of settled
    materials that were fetched rather than uploaded."""
    with rt.db.connect() as conn:
        by_state, declined = store.counts(conn, tenant)
    fetched, uploaded = by_state.get("confirmed", 0), by_state.get("uploaded", 0)
    awaiting, previewed = by_state.get("declined", 0), by_state.get("previewed", 0)
    settled = fetched + uploaded + awaiting
    return EvidenceTotals(sum(by_state.values()), fetched, uploaded, declined, awaiting, previewed,
                          fetched / settled if settled else None)  # fmt: skip
