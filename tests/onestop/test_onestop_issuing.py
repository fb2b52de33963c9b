"""统一发证 end to end over the API: a birth application approved by health, its e-certificate issued into the
mother's wallet with the claims the clerk gives, seen in her own wallet and her submissions; the same
certificate then serves as once-only evidence of the household registration's application, and confirming it
asks that application's rules again: a late registration is decided at once."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from conftest import Api
from onestop_samples import answers_for

from cityos import datahub
from cityos.auth import Subject, create_token, sign_in_subject
from cityos.demo.people import build_residents, load_people
from cityos.demo.sharing import load_grants

pytestmark = pytest.mark.settings(seal_secret="a test secret of the offices' seals")
T = "default"
CLAIMS = {"childName": "刘小宝", "sex": "男", "birthDate": "2026-11-30", "birthPlace": "上海市黄浦区",
          "motherName": "刘芳", "certificateNumber": "P310000123"}  # fmt: skip


def _act(api: Api, app: str, action: str, token: str, **body: object) -> dict[str, object]:
    r = api.post(f"/onestop/applications/{app}/actions/{action}", json=body or None, token=token)
    assert r.status_code == 200, r.text
    return r.json()


def test_an_approved_birth_certificate_lands_in_the_wallet_and_serves_as_evidence(api: Api) -> None:
    datahub.load_catalogue(api.rt, T, by="test")
    load_people(api.rt, T, build_residents()[:2])
    load_grants(api.rt, T)
    mother = build_residents()[0].id_card
    subject = Subject("person", mother, datahub.registry_entity_id(api.rt, "persons", mother))
    own = sign_in_subject(api.rt.db, "citizen:mother", subject, tenant=T)[0]
    body = {"bundle": "newborn", "answers": answers_for(api, "newborn", {})}
    r = api.post("/onestop/submissions", json=body, headers={"Idempotency-Key": "baby"}, token=own)
    assert r.status_code == 201, r.text
    apps = {a["item"]: a["id"] for a in r.json()["applications"]}
    health = create_token(api.rt.db, "health", role="department", kind="department")
    birth = apps["HP-WJ-0001"]
    _act(api, birth, "receive", health)
    _act(api, birth, "approve", health)
    missing = api.post(f"/onestop/applications/{birth}/actions/issue-certificate", json={}, token=health)
    assert missing.status_code == 400 and missing.json()["field"] == "claims"
    done = _act(api, birth, "issue-certificate", health, claims=CLAIMS)
    assert done["state"] == "certificate-issued" and "电子证照 urn:uuid:" in str(done["history"])
    held = api.get("/onestop/me/wallet", token=own)
    # the vaccination certificate of the same bundle was issued at once by its decision rules (无人干预自动办理)
    types = {c["certificateType"]: c["id"] for c in held.json()}
    assert held.status_code == 200 and sorted(types) == ["BirthMedicalCertificate", "VaccinationCertificate"]
    got = api.get(f"/onestop/me/credentials/{types['BirthMedicalCertificate']}", token=own)
    assert got.status_code == 200 and got.json()["credentialSubject"]["childName"] == "刘小宝"
    assert api.post("/onestop/verify", json=got.json(), token=None).json()["ok"] is True
    mine = api.get("/onestop/me/submissions", token=own).json()
    assert [s["id"] for s in mine] == [r.json()["id"]]
    household = apps["HP-GA-0001"]  # 户口登记 asks for the birth medical certificate: from the wallet
    shown = api.post(f"/onestop/applications/{household}/materials/birth-medical-certificate/preview", json={},
                     token=own)  # fmt: skip
    assert shown.status_code == 200, shown.text
    assert "刘小宝" in str(shown.json()["values"])
    other = sign_in_subject(api.rt.db, "citizen:other", Subject("person", build_residents()[1].id_card, "x"),
                            tenant=T)[0]  # fmt: skip
    assert api.get(f"/onestop/me/credentials/{types['BirthMedicalCertificate']}", token=other).status_code == 404
    assert api.get(f"/onestop/applications/{birth}", token=other).status_code in (403, 404)


def test_confirming_evidence_asks_the_rules_again_and_decides_at_once(api: Api) -> None:
    datahub.load_catalogue(api.rt, T, by="test")
    load_people(api.rt, T, build_residents()[:2])
    load_grants(api.rt, T)
    mother = build_residents()[0].id_card
    subject = Subject("person", mother, datahub.registry_entity_id(api.rt, "persons", mother))
    own = sign_in_subject(api.rt.db, "citizen:mother", subject, tenant=T)[0]
    born = (date.today() - timedelta(days=10)).isoformat()  # the rules want the certificate confirmed too
    body = {"bundle": "newborn", "answers": answers_for(api, "newborn", {"baby_name": "刘小宝", "birth_date": born})}
    r = api.post("/onestop/submissions", json=body, headers={"Idempotency-Key": "late-baby"}, token=own)
    assert r.status_code == 201, r.text
    apps = {a["item"]: a for a in r.json()["applications"]}
    household = apps["HP-GA-0001"]
    assert household["state"] == "submitted" and household["decision"]["outcome"] == "undecided"
    health = create_token(api.rt.db, "health", role="department", kind="department")
    birth = apps["HP-WJ-0001"]["id"]
    _act(api, birth, "receive", health)
    _act(api, birth, "approve", health)
    _act(api, birth, "issue-certificate", health, claims={**CLAIMS, "birthDate": born})
    url = f"/onestop/applications/{household['id']}/materials/birth-medical-certificate"
    shown = api.post(f"{url}/preview", json={}, token=own)
    assert shown.status_code == 200, shown.text
    done = api.post(f"{url}/confirm", json={"contentHash": shown.json()["contentHash"]}, token=own)
    assert done.status_code == 200 and done.json()["state"] == "confirmed"
    after = api.get(f"/onestop/applications/{household['id']}", token=own).json()
    assert after["state"] == "certificate-issued", after["decision"]
    assert after["decision"]["stage"] == "evidence"
    assert after["decision"]["reasons"] == ["birth-certificate-matches", "within-a-month"]
    assert [h["actor"] for h in after["history"][1:]] == ["rules", "rules", "rules"]
