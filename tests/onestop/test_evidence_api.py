"""The evidence routes (POST …/materials/{code}/preview, confirm, decline, upload; GET …/evidence) over ASGI on
SQLite and PostgreSQL, on a real application of 新生儿出生一件事: the applicant, the implementing department and
the material come from the application and its item, never from the request; the applicant's own login and a
counter's act on it, another person's login does not; problem documents for a missing grant, a declined fetch
and an upload over the limit."""

from __future__ import annotations

import pytest
from conftest import Api
from onestop_samples import answers_for

from cityos import datahub
from cityos.auth import Subject, sign_in_subject
from cityos.demo.people import build_residents, load_people
from cityos.demo.sharing import load_grants

T = "default"
PDF = b"%PDF-1.7\n%%EOF\n"


@pytest.fixture
def ready(api: Api) -> Api:
    datahub.load_catalogue(api.rt, T, by="test")
    load_people(api.rt, T, build_residents()[:3])
    load_grants(api.rt, T)
    return api


def _birth_application(api: Api, n: int = 0, item: str = "HP-WJ-0001") -> str:
    """The newborn bundle submitted at a counter for resident ``n``: the id of ``item``'s application."""
    body = {"bundle": "newborn", "answers": answers_for(api, "newborn", {}), "applicantKind": "person",
            "applicant": build_residents()[n].id_card}  # fmt: skip
    r = api.post("/onestop/submissions", json=body, headers={"Idempotency-Key": f"birth-{n}"})
    assert r.status_code in (200, 201), r.text
    return next(a["id"] for a in r.json()["applications"] if a["item"] == item)


def _login(api: Api, n: int) -> str:
    card = build_residents()[n].id_card
    subject = Subject("person", card, datahub.registry_entity_id(api.rt, "persons", card))
    return sign_in_subject(api.rt.db, f"citizen:test-{n}", subject, tenant=T)[0]


def _url(app: str, code: str, step: str) -> str:
    return f"/onestop/applications/{app}/materials/{code}/{step}"


def test_preview_confirm_upload_and_the_applications_evidence(ready: Api) -> None:
    app = _birth_application(ready)
    r = ready.post(_url(app, "mother-id", "preview"), json={})
    assert r.status_code == 200, r.text
    shown = r.json()
    assert shown["values"]["name"] == build_residents()[0].name
    assert shown["auditSeq"] and shown["actions"] == ["confirm", "decline", "upload"]
    r = ready.post(_url(app, "mother-id", "confirm"), json={"contentHash": shown["contentHash"]})
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "confirmed" and r.json()["stateLabel"] == "已确认调取"
    files = {"file": ("结婚证.pdf", PDF, "application/pdf")}
    r = ready.post(_url(app, "marriage-certificate", "upload"), files=files)
    assert r.status_code == 200, r.text
    assert r.json()["upload"]["size"] == len(PDF)
    got = ready.get(f"/onestop/applications/{app}/evidence").json()
    assert (got["fetched"], got["uploaded"], got["declined"]) == (1, 1, 0)
    assert {m["materialCode"]: m["auditSeq"] for m in got["materials"]}["mother-id"] == shown["auditSeq"]
    assert ready.post(_url(app, "no-such-material", "preview"), json={}).status_code == 404


def test_the_applicant_previews_its_own_and_another_person_nothing(ready: Api) -> None:
    app = _birth_application(ready, 1)
    own, other = _login(ready, 1), _login(ready, 2)
    assert ready.post(_url(app, "mother-id", "preview"), json={}, token=own).status_code == 200
    chain = datahub.chain_length(ready.rt)
    assert ready.post(_url(app, "mother-id", "preview"), json={}, token=other).status_code in (403, 404)
    assert ready.get(f"/onestop/applications/{app}/evidence", token=other).status_code in (403, 404)
    someone = {"key": build_residents()[2].id_card}  # another person's record on the applicant's word: never
    r = ready.post(_url(app, "mother-id", "preview"), json=someone, token=own)
    assert r.status_code == 400 and r.json()["field"] == "key"
    assert datahub.chain_length(ready.rt) == chain


def test_decline_then_preview_is_a_409_and_nothing_is_read(ready: Api) -> None:
    app = _birth_application(ready, 1)
    assert ready.post(_url(app, "mother-id", "decline"), json={"reason": "自行上传"}).status_code == 200
    chain = datahub.chain_length(ready.rt)
    r = ready.post(_url(app, "mother-id", "preview"), json={})
    assert r.status_code == 409 and r.json()["type"].endswith("evidence-move-refused")
    assert "never fetched again" in r.json()["detail"] and r.json()["allowed"] == ["upload"]
    assert datahub.chain_length(ready.rt) == chain


def test_no_grant_is_a_403_problem_telling_to_upload(ready: Api) -> None:
    # medical insurance holds no 一网通办 grant on the persons' entry in the demo
    app = _birth_application(ready, item="HP-YB-0001")
    r = ready.post(_url(app, "guardian-id", "preview"), json={})
    assert r.status_code == 403 and r.json()["type"].endswith("evidence-not-granted")
    assert "HP-01-01-0001" in r.json()["detail"] and "Upload the material instead" in r.json()["detail"]


@pytest.mark.settings(onestop_upload_max_bytes=16)
def test_an_upload_over_the_limit_or_of_another_type_is_refused(ready: Api) -> None:
    url = _url(_birth_application(ready), "marriage-certificate", "upload")
    r = ready.post(url, files={"file": ("a.pdf", PDF + b"x" * 16, "application/pdf")})
    assert r.status_code == 413 and "at most 16 bytes" in r.json()["detail"]
    r = ready.post(url, files={"file": ("a.gif", b"GIF89a", "image/gif")})
    assert r.status_code == 415 and "PDF, JPEG or PNG" in r.json()["detail"]
