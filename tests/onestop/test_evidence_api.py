"""The evidence routes (POST …/materials/{code}/preview, confirm, decline, upload; GET …/evidence) over ASGI on
SQLite and PostgreSQL: the applicant named in the body by an administrator's token (citizens' tokens are
being added), problem documents for a missing grant, a declined fetch and an upload over the limit."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import Api

from cityos import datahub
from cityos.demo.people import PERSON_CODE, build_residents, load_people
from cityos.demo.sharing import load_grants

T = "default"
PDF = b"%PDF-1.7\n%%EOF\n"
MATERIAL = {"name": "母亲身份信息", "source": "registry", "registry": "person", "entry": PERSON_CODE,
            "items": ["idCard", "name", "registeredAddress"]}  # fmt: skip


@pytest.fixture
def ready(api: Api) -> Api:
    datahub.load_catalogue(api.rt, T, by="test")
    load_people(api.rt, T, build_residents()[:3])
    load_grants(api.rt, T)
    return api


def _who(n: int = 0) -> dict[str, str]:
    return {"kind": "person", "key": build_residents()[n].id_card}


def _preview(api: Api, app: str, dept: str = "health", n: int = 0) -> Any:
    body = {"applicant": _who(n), "department": dept, "itemName": "出生医学证明", "material": MATERIAL}
    return api.post(f"/onestop/applications/{app}/materials/mother/preview", json=body)


def test_preview_confirm_and_the_applications_evidence(ready: Api) -> None:
    r = _preview(ready, "APP-1")
    assert r.status_code == 200, r.text
    shown = r.json()
    assert shown["values"]["name"] == build_residents()[0].name and shown["masked"] == ["idCard"]
    assert shown["auditSeq"] and shown["actions"] == ["confirm", "decline", "upload"]
    body = {"applicant": _who(), "material": MATERIAL, "contentHash": shown["contentHash"]}
    r = ready.post("/onestop/applications/APP-1/materials/mother/confirm", json=body)
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "confirmed" and r.json()["stateLabel"] == "已确认调取"
    files = {"file": ("营业执照.pdf", PDF, "application/pdf")}
    form = {"applicantKind": "person", "applicantKey": _who()["key"], "materialName": "营业执照"}
    r = ready.post("/onestop/applications/APP-1/materials/licence/upload", files=files, data=form)
    assert r.status_code == 200, r.text
    assert r.json()["upload"]["size"] == len(PDF)
    got = ready.get("/onestop/applications/APP-1/evidence").json()
    assert (got["fetched"], got["uploaded"], got["declined"]) == (1, 1, 0)
    assert {m["materialCode"]: m["auditSeq"] for m in got["materials"]}["mother"] == shown["auditSeq"]


def test_decline_then_preview_is_a_409_and_nothing_is_read(ready: Api) -> None:
    body = {"applicant": _who(1), "material": MATERIAL, "reason": "自行上传"}
    assert ready.post("/onestop/applications/APP-2/materials/mother/decline", json=body).status_code == 200
    chain = datahub.chain_length(ready.rt)
    r = _preview(ready, "APP-2", n=1)
    assert r.status_code == 409 and r.json()["type"].endswith("evidence-move-refused")
    assert "never fetched again" in r.json()["detail"] and r.json()["allowed"] == ["upload"]
    assert datahub.chain_length(ready.rt) == chain


def test_no_grant_is_a_403_problem_telling_to_upload(ready: Api) -> None:
    r = _preview(ready, "APP-3", dept="education")
    assert r.status_code == 403 and r.json()["type"].endswith("evidence-not-granted")
    assert PERSON_CODE in r.json()["detail"] and "Upload the material instead" in r.json()["detail"]


@pytest.mark.settings(onestop_upload_max_bytes=16)
def test_an_upload_over_the_limit_or_of_another_type_is_refused(ready: Api) -> None:
    form = {"applicantKind": "person", "applicantKey": _who()["key"], "materialName": "照片"}
    url = "/onestop/applications/APP-4/materials/photo/upload"
    r = ready.post(url, files={"file": ("a.pdf", PDF + b"x" * 16, "application/pdf")}, data=form)
    assert r.status_code == 413 and "at most 16 bytes" in r.json()["detail"]
    r = ready.post(url, files={"file": ("a.gif", b"GIF89a", "image/gif")}, data=form)
    assert r.status_code == 415 and "PDF, JPEG or PNG" in r.json()["detail"]


def test_a_counters_request_names_the_applicant(ready: Api) -> None:
    body = {"department": "health", "itemName": "出生医学证明", "material": MATERIAL}
    r = ready.post("/onestop/applications/APP-5/materials/mother/preview", json=body)
    assert r.status_code == 400 and r.json()["field"] == "applicant"
    r = ready.post("/onestop/applications/APP-5/materials/photo/upload", data={"materialName": "照片"},
                   files={"file": ("a.pdf", PDF, "application/pdf")})  # fmt: skip
    assert r.status_code == 400 and r.json()["field"] == "applicant"
