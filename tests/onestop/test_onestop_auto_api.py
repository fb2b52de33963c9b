"""无人干预自动办理 over the API, on SQLite and PostgreSQL: an application the item's rules can decide is approved
at once with its e-certificate in the applicant's wallet, or refused with the rules' reasons, by the ``rules``
party with no clerk; one they cannot decide waits in the clerk's queue with its rule trace. A version whose
rules do not parse or fail a test is not published, the failing case named."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from conftest import Api

from cityos import datahub
from cityos.auth import Subject, create_token, sign_in_subject
from cityos.demo.people import build_residents, load_people
from cityos.demo.sharing import load_grants

pytestmark = pytest.mark.settings(seal_secret="a test secret of the offices' seals")
T = "default"


def _citizen(api: Api, n: int = 0) -> tuple[str, str]:
    datahub.load_catalogue(api.rt, T, by="test")
    load_people(api.rt, T, build_residents()[:3])
    load_grants(api.rt, T)
    key = build_residents()[n].id_card
    subject = Subject("person", key, datahub.registry_entity_id(api.rt, "persons", key))
    return key, sign_in_subject(api.rt.db, f"citizen:{n}", subject, tenant=T)[0]


def _submit(api: Api, token: str, item: str, answers: dict[str, Any], key: str) -> dict[str, Any]:
    r = api.post("/onestop/submissions", json={"item": item, "answers": answers}, headers={"Idempotency-Key": key},
                 token=token)  # fmt: skip
    assert r.status_code == 201, r.text
    return r.json()["applications"][0]


def _days_ago(n: int) -> str:
    return (date.today() - timedelta(days=n)).isoformat()


def test_an_application_the_rules_approve_is_decided_at_once_with_its_certificate(api: Api) -> None:
    _, own = _citizen(api)
    answers = {"baby_name": "刘小宝", "birth_date": _days_ago(5), "vaccination_clinic": "瑞金二路街道社区卫生服务中心"}
    app = _submit(api, own, "HP-WJ-0002", answers, "vaccination")
    assert app["state"] == "certificate-issued"
    steps = [(h["action"], h["actor"]) for h in app["history"]]
    assert steps == [("submit", "applicant (person)"), ("receive", "rules"), ("approve", "rules"),
                     ("issue-certificate", "rules")]  # fmt: skip
    assert "儿童未满六周岁" in app["history"][2]["reason"] and "电子证照 urn:uuid:" in app["history"][3]["reason"]
    decision = app["decision"]
    assert (decision["outcome"], decision["stage"], decision["reasons"]) == (
        "approve", "submission", ["child-under-six", "adult-guardian"])  # fmt: skip
    held = api.get("/onestop/me/wallet", token=own).json()
    assert [c["certificateType"] for c in held] == ["VaccinationCertificate"]
    got = api.get(f"/onestop/me/credentials/{held[0]['id']}", token=own).json()
    assert got["credentialSubject"]["childName"] == "刘小宝" and got["credentialSubject"]["birthDate"] == _days_ago(5)
    assert api.post("/onestop/verify", json=got, token=None).json()["ok"] is True


def test_an_application_the_rules_refuse_is_rejected_with_their_reasons(api: Api) -> None:
    key, own = _citizen(api)
    app = _submit(api, own, "HP-YB-0001", {"baby_name": "刘小宝", "birth_date": _days_ago(800),
                                           "mother_id_card": key}, "insurance")  # fmt: skip
    assert app["state"] == "rejected" and app["reasons"].startswith("系统自动不予许可：出生已满一年")
    assert app["decision"]["outcome"] == "refuse" and app["decision"]["reasons"] == ["not-a-newborn"]
    assert [h["actor"] for h in app["history"][1:]] == ["rules", "rules"]
    assert api.get("/onestop/me/wallet", token=own).json() == []


def test_an_application_the_rules_cannot_decide_waits_for_a_clerk_with_its_trace(api: Api) -> None:
    _, own = _citizen(api, 1)  # the father applies: the rules want the mother
    mother = build_residents()[0].id_card
    app = _submit(api, own, "HP-YB-0001", {"baby_name": "刘小宝", "birth_date": _days_ago(3),
                                           "mother_id_card": mother}, "insurance-father")  # fmt: skip
    assert app["state"] == "submitted" and app["decision"]["outcome"] == "undecided"
    clerk = create_token(api.rt.db, "medical-insurance", role="department", kind="department")
    queue = api.get("/onestop/applications", params={"state": "submitted"}, token=clerk)
    assert queue.status_code == 200
    found = next(a for a in queue.json()["applications"] if a["id"] == app["id"])
    trace = {s["rule"]: s for s in found["decision"]["trace"]}
    assert found["decision"]["reasons"] == ["mother-applies"] and found["decision"]["outcomeZh"] == "转人工审核"
    assert trace["mother-applies"]["holds"] is False and trace["newborn"]["holds"] is True
    assert trace["mother-applies"]["inputs"]["answers.mother_id_card"] == mother
    again = api.post(f"/onestop/applications/{app['id']}/decide", token=own)
    assert again.status_code == 200 and again.json()["decision"]["seq"] == 2
    assert again.json()["decision"]["stage"] == "request" and again.json()["state"] == "submitted"
    received = api.post(f"/onestop/applications/{app['id']}/actions/receive", token=clerk).json()
    assert received["state"] == "received" and received["decision"]["stage"] == "receipt"  # asked again, still open
    approved = api.post(f"/onestop/applications/{app['id']}/actions/approve", token=clerk).json()
    assert approved["state"] == "approved" and approved["history"][-1]["actor"] == "medical-insurance"
    late = api.post(f"/onestop/applications/{app['id']}/decide", token=clerk)
    assert late.status_code == 409 and late.json()["type"].endswith("decision-not-possible")


def _published(api: Api, code: str) -> dict[str, Any]:
    item = api.get(f"/onestop/items/{code}", token=None).json()
    keep = {
        "code",
        "name",
        "nameEn",
        "department",
        "applicantKinds",
        "legalBasis",
        "conditions",
        "materials",
        "legalLimitDays",
        "promisedLimitDays",
        "fee",
        "handling",
        "certificateType",
        "questions",
        "decision",
    }
    return {k: v for k, v in item.items() if k in keep}


def test_a_version_whose_rules_fail_a_test_or_do_not_parse_is_not_published(api: Api) -> None:
    body = _published(api, "HP-LH-0001")
    stricter = [dict(r) for r in body["decision"]["rules"]]
    stricter[1] = {**stricter[1], "when": {"<=": [{"var": "answers.sign_area"}, 3]}}
    new = {**body, "decision": {**body["decision"], "rules": stricter}}
    failed = api.post("/onestop/items/HP-LH-0001/versions", json={"item": new, "reason": "小型招牌上限改为3平方米"})
    problem = failed.json()
    assert failed.status_code == 422 and problem["type"].endswith("decision-test-failed")
    assert problem["case"] == "a-small-sign-with-the-shop-name-is-filed-at-once"
    assert problem["case"] in problem["detail"]
    broken = {**body, "decision": {**body["decision"], "rules": [{**stricter[1], "when": {"eval": "x"}}]}}
    bad = api.post("/onestop/items/HP-LH-0001/versions", json={"item": broken, "reason": "坏规则"})
    assert bad.status_code == 400 and bad.json()["type"].endswith("decision-rules-invalid") and "eval" in bad.text
    assert [v["version"] for v in api.get("/onestop/items/HP-LH-0001/versions", token=None).json()] == [1]
    tests = [{"name": "a-sign-of-three-square-metres", "today": "2026-12-06", "expect": "approve",
              "answers": {"business_name": "小笼包", "sign_text": "小笼包", "sign_area": 3}},
             {"name": "a-sign-of-four-goes-to-a-clerk", "today": "2026-12-06", "expect": "undecided",
              "answers": {"business_name": "小笼包", "sign_text": "小笼包", "sign_area": 4}},
             {"name": "a-sign-of-sixty-is-refused", "today": "2026-12-06", "expect": "refuse",
              "answers": {"business_name": "小笼包", "sign_text": "小笼包", "sign_area": 60}}]  # fmt: skip
    ok = api.post("/onestop/items/HP-LH-0001/versions", json={"item": new, "reason": "小型招牌上限改为3平方米",
                                                              "tests": tests})  # fmt: skip
    assert ok.status_code == 201, ok.text
    assert ok.json()["version"] == 2 and ok.json()["decision"]["tests"][0]["name"] == tests[0]["name"]
