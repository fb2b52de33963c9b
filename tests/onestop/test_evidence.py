"""Once-only evidence (issue 20 item 4, 两个免于提交) on SQLite and PostgreSQL: a preview reads the registry as the
implementing department under its 一网通办 grant, masked and audited so that it shows in "who used my data";
consent attaches the evidence; a declined material is never read again; no grant is a 403 telling the
applicant to upload; uploads are checked; the summary and the totals count."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from cityos import datahub
from cityos.demo.people import PERSON_CODE, Resident, build_residents, load_people
from cityos.demo.sharing import load_grants
from cityos.onestop.evidence import (
    Applicant,
    confirm,
    content_hash,
    decline,
    evidence_summary,
    evidence_totals,
    material_evidence,
    preview,
    upload,
)
from cityos.onestop.evidence_errors import (
    EvidenceMoveRefused,
    EvidenceNotFound,
    EvidenceNotGranted,
    InvalidEvidenceRequest,
    UploadTooLarge,
    UploadTypeRefused,
)
from cityos.onestop.evidence_workflow import EvidenceState
from cityos.onestop.models import Material
from cityos.runtime import Runtime

T = "default"
MASKED_ID = re.compile(r"310101\*{8}\d{3}[\dX]")
ITEM = "新生儿出生一件事·出生医学证明"
MOTHER = Material("mother-identity", "母亲身份信息", "registry", registry="person", entry=PERSON_CODE,
                  items=("idCard", "name", "birthDate", "registeredAddress"))  # fmt: skip
WITH_MOBILE = Material("contact", "联系电话", "registry", registry="person", entry=PERSON_CODE,
                       items=("name", "mobile"))  # fmt: skip
PDF = b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


@pytest.fixture
def hub(rt: Runtime) -> Iterator[Runtime]:
    """The demo catalogue, a few residents of the person registry, and the demo's grants (一网通办 among them)."""
    datahub.load_catalogue(rt, T, by="test")
    load_people(rt, T, build_residents()[:6])
    load_grants(rt, T)
    yield rt


def _person(n: int = 0) -> Resident:
    return build_residents()[n]


def _applicant(r: Resident) -> Applicant:
    return Applicant("person", r.id_card)


def _preview(rt: Runtime, app: str, material: Material = MOTHER, dept: str = "health", n: int = 0) -> Any:
    return preview(rt, T, dept, _applicant(_person(n)), material, application_id=app, item_name=ITEM, by="tester")


def _reads(rt: Runtime, r: Resident) -> list[datahub.SubjectRead]:
    return datahub.reads_of_subject(rt, T, datahub.subject_hash(rt, r.id_card))


def test_a_preview_is_masked_audited_and_shows_in_who_used_my_data(hub: Runtime) -> None:
    me = _person()
    shown = _preview(hub, "A-1")
    assert shown.values["name"] == me.name and shown.values["birthDate"] == me.birth_date.isoformat()
    assert MASKED_ID.fullmatch(shown.values["idCard"]) and shown.values["idCard"] != me.id_card
    assert shown.masked == ("idCard",) and shown.labels["registeredAddress"] == "户籍地址"
    assert set(shown.values) == set(MOTHER.items)  # only the material's items, not the grant's others
    granted = datahub.list_grants(hub, T, department="health", code=PERSON_CODE, state="approved")
    assert shown.grant == next(g.grant.id for g in granted if g.grant.scenario == "一网通办")
    mine = [r for r in _reads(hub, me) if r.seq == shown.audit_seq]
    assert len(mine) == 1
    assert (mine[0].department, mine[0].scenario, mine[0].purpose) == ("health", "一网通办", f"一网通办 {ITEM}")
    assert mine[0].grant == shown.grant and mine[0].code == PERSON_CODE
    assert datahub.verify(hub).ok


def test_confirm_attaches_the_values_as_fetched_their_hash_and_the_audit_record(hub: Runtime) -> None:
    shown = _preview(hub, "A-2")
    done = confirm(hub, T, "A-2", MOTHER, _applicant(_person()), by="tester", content_hash=shown.content_hash)
    assert done.state == EvidenceState.CONFIRMED and done.values == shown.values
    assert done.content_hash == content_hash(shown.values) == shown.content_hash
    assert done.audit_seq == shown.audit_seq and done.department == "health"
    assert [h.action for h in done.history] == ["preview", "confirm"]
    with pytest.raises(EvidenceMoveRefused):  # consent is given once; nothing is fetched again
        _preview(hub, "A-2")


def test_confirm_refuses_evidence_other_than_the_one_previewed(hub: Runtime) -> None:
    _preview(hub, "A-3")
    with pytest.raises(EvidenceMoveRefused, match="preview it again"):
        confirm(hub, T, "A-3", MOTHER, _applicant(_person()), by="tester", content_hash="0" * 64)
    with pytest.raises(EvidenceMoveRefused, match="nothing fetched"):
        confirm(hub, T, "A-nothing", MOTHER, _applicant(_person()), by="tester")


def test_a_declined_material_is_never_read_again(hub: Runtime) -> None:
    me = _person(1)
    decline(hub, T, "A-4", MOTHER, _applicant(me), by="tester", reason="我自己上传")
    chain, reads = datahub.chain_length(hub), len(_reads(hub, me))
    for _ in range(3):
        with pytest.raises(EvidenceMoveRefused, match="never fetched again"):
            _preview(hub, "A-4", n=1)
    assert datahub.chain_length(hub) == chain and len(_reads(hub, me)) == reads  # no read, no lookup


def test_declining_after_a_preview_drops_the_values_and_stops_every_later_read(hub: Runtime) -> None:
    me = _person(2)
    _preview(hub, "A-5", n=2)
    done = decline(hub, T, "A-5", MOTHER, _applicant(me), by="tester")
    assert done.state == EvidenceState.DECLINED and done.values is None and done.declined_at_ms
    chain = datahub.chain_length(hub)
    with pytest.raises(EvidenceMoveRefused):
        _preview(hub, "A-5", n=2)
    uploaded = upload(hub, T, "A-5", MOTHER, _applicant(me), filename="身份证.pdf", content_type="application/pdf",
                      content=PDF, by="tester")  # fmt: skip
    assert uploaded.state == EvidenceState.UPLOADED and uploaded.upload is not None
    with pytest.raises(EvidenceMoveRefused):
        _preview(hub, "A-5", n=2)
    assert datahub.chain_length(hub) == chain
    assert _preview(hub, "A-other", n=2).audit_seq  # another application asks again, and is read


def test_without_a_grant_the_fetch_is_a_403_naming_the_grant_and_telling_to_upload(hub: Runtime) -> None:
    chain = datahub.chain_length(hub)
    with pytest.raises(EvidenceNotGranted) as refused:
        _preview(hub, "A-6", dept="education")
    detail = refused.value.detail
    assert refused.value.status == 403 and PERSON_CODE in detail and "一网通办" in detail
    assert "public-security" in detail and "Upload the material instead" in detail
    assert datahub.chain_length(hub) == chain  # refused before anything was read
    with pytest.raises(EvidenceNotGranted, match="leaves out mobile"):  # the grant keeps mobile out
        _preview(hub, "A-6", WITH_MOBILE)


def test_a_person_the_registry_does_not_hold_is_404_and_a_bad_key_400(hub: Runtime) -> None:
    stranger = "11010519491231002X"  # well-formed, not in the demo district
    with pytest.raises(EvidenceNotFound, match="upload the material"):
        preview(hub, T, "health", Applicant("person", stranger), MOTHER, application_id="A-7", item_name=ITEM, by="t")
    with pytest.raises(InvalidEvidenceRequest, match=r"applicant\.key"):
        preview(hub, T, "health", Applicant("person", '1"||x'), MOTHER, application_id="A-7", item_name=ITEM, by="t")


@pytest.mark.settings(onestop_upload_max_bytes=1024)
def test_uploads_are_pdf_jpeg_or_png_within_the_limit(hub: Runtime) -> None:
    who = _applicant(_person())
    upload_material = Material("photo", "照片", "upload")
    with pytest.raises(UploadTooLarge, match="1024 bytes"):
        upload(hub, T, "A-8", upload_material, who, filename="big.pdf", content_type="application/pdf",
               content=PDF + b"0" * 1024, by="t")  # fmt: skip
    with pytest.raises(UploadTypeRefused, match="PDF, JPEG or PNG"):
        upload(hub, T, "A-8", upload_material, who, filename="a.txt", content_type="text/plain", content=b"hi", by="t")
    with pytest.raises(UploadTypeRefused, match="declared application/pdf"):
        upload(hub, T, "A-8", upload_material, who, filename="a.pdf", content_type="application/pdf", content=PNG,
               by="t")  # fmt: skip
    done = upload(hub, T, "A-8", upload_material, who, filename="照片.png", content_type="image/png", content=PNG,
                  by="t")  # fmt: skip
    assert done.upload is not None and (done.upload.size, done.upload.content_type) == (len(PNG), "image/png")
    again = upload(hub, T, "A-8", upload_material, who, filename="照片2.pdf", content_type="application/pdf",
                   content=PDF, by="t")  # fmt: skip
    assert again.upload is not None and again.upload.filename == "照片2.pdf"  # the new file replaces the old
    assert [h.to_state for h in again.history] == ["uploaded", "uploaded"]


def test_a_certificate_comes_from_the_applicants_wallet(hub: Runtime) -> None:
    me = _person()
    credential = {"type": ["VerifiableCredential", "BirthCertificate"], "credentialSubject": {"name": "王小明"}}
    held = {(me.id_card, "birth-certificate"): credential}

    def wallet(holder: str, certificate_type: str) -> dict[str, Any] | None:
        return held.get((holder, certificate_type))

    cert = Material("birth-cert", "出生医学证明", "certificate", certificate_type="birth-certificate")
    chain = datahub.chain_length(hub)
    shown = preview(hub, T, "public-security", _applicant(me), cert, application_id="A-9", item_name=ITEM, by="t",
                    wallet=wallet)  # fmt: skip
    assert shown.values == credential and shown.audit_seq is None and datahub.chain_length(hub) == chain
    done = confirm(hub, T, "A-9", cert, _applicant(me), by="t")
    assert done.state == EvidenceState.CONFIRMED and done.content_hash == content_hash(credential)
    other = Material("hukou", "户口簿", "certificate", certificate_type="household-register")
    with pytest.raises(EvidenceNotFound, match="wallet holds no 户口簿"):
        preview(hub, T, "public-security", _applicant(me), other, application_id="A-9", item_name=ITEM, by="t",
                wallet=wallet)  # fmt: skip


def test_the_summary_and_the_totals_count_fetched_uploaded_and_declined(hub: Runtime) -> None:
    who = _applicant(_person())
    m = {n: Material(n, n, "registry", registry="person", entry=PERSON_CODE, items=("name",)) for n in "abcde"}
    _preview(hub, "S-1", m["a"])
    confirm(hub, T, "S-1", m["a"], who, by="t")  # fetched
    upload(hub, T, "S-1", Material("f", "f", "upload"), who, filename="f.pdf", content_type="application/pdf",
           content=PDF, by="t")  # uploaded  # fmt: skip
    decline(hub, T, "S-1", m["b"], who, by="t")
    upload(hub, T, "S-1", m["b"], who, filename="b.pdf", content_type="application/pdf", content=PDF, by="t")
    decline(hub, T, "S-1", m["c"], who, by="t")  # declined, awaiting its upload
    _preview(hub, "S-1", m["d"])  # previewed, undecided
    summary = evidence_summary(hub, T, "S-1")
    assert (summary.fetched, summary.uploaded, summary.declined, summary.previewed) == (1, 2, 2, 1)
    assert {x.material_code: x.state.value for x in summary.materials} == {
        "a": "confirmed", "f": "uploaded", "b": "uploaded", "c": "declined", "d": "previewed"}  # fmt: skip
    assert evidence_summary(hub, T, "S-none").materials == []
    totals = evidence_totals(hub, T)
    assert (totals.materials, totals.fetched, totals.uploaded, totals.declined) == (5, 1, 2, 2)
    assert (totals.awaiting_upload, totals.previewed, totals.once_only_rate) == (1, 1, 0.25)
    assert material_evidence(hub, T, "S-1", "a").values == {"name": _person().name}
