"""The applications' API over HTTP on SQLite and PostgreSQL: submit with an Idempotency-Key (201, then 200 for
the retry), the combined status, a department's queue and actions (403 for another department's, 409 naming the
allowed actions, 404 for an unknown one), all as problem JSON."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import Api
from onestop_samples import ANSWERS, ITEMS, RESTAURANT

from cityos.auth import create_token
from cityos.onestop import install_catalogue, static_catalogue

BODY = {"bundle": "restaurant", "answers": ANSWERS, "applicant": "91310101MA1FPX1234", "applicantKind": "enterprise"}


@pytest.fixture
def onestop(api: Api) -> Api:
    install_catalogue(api.rt, static_catalogue(ITEMS, [RESTAURANT], applicable=lambda b, a: [i.item for i in b.items]))
    return api


def _submit(api: Api, key: str = "k-1", **over: Any) -> Any:
    return api.post("/onestop/submissions", json={**BODY, **over}, headers={"Idempotency-Key": key})


def _clerk(api: Api, department: str) -> str:
    return create_token(api.rt.db, department, role="department", kind="department")


def _act(api: Api, app_id: str, action: str, token: str | None = "", **body: Any) -> Any:
    return api.post(f"/onestop/applications/{app_id}/actions/{action}", json=body or None, token=token)


def test_submit_then_retry_then_follow_the_combined_status(onestop: Api) -> None:
    r = _submit(onestop)
    assert r.status_code == 201, r.text
    s = r.json()
    assert r.headers["Location"] == f"/onestop/submissions/{s['id']}"
    assert s["overall"] == "submitted" and len(s["applications"]) == 5
    first = s["applications"][0]
    assert first["stateZh"] == "已提交" and first["allowedActions"] == ["receive", "refuse", "withdraw"]
    assert first["clock"]["state"] is None and first["history"][0]["action"] == "submit"
    again = _submit(onestop)
    assert again.status_code == 200 and again.json()["id"] == s["id"]
    reused = _submit(onestop, answers={**ANSWERS, "area": 1})
    assert reused.status_code == 422 and reused.json()["submission"] == s["id"]
    got = onestop.get(f"/onestop/submissions/{s['id']}")
    assert got.status_code == 200 and got.json()["applications"] == s["applications"]
    assert onestop.get("/onestop/submissions/nope").status_code == 404


def test_bad_submissions_are_400s_naming_the_field(onestop: Api) -> None:
    missing = onestop.post("/onestop/submissions", json=BODY)
    assert missing.status_code in (400, 422) and "idempotency" in missing.text.lower()
    both = _submit(onestop, item="HP-XK-0001")
    assert both.status_code in (400, 422)
    nobody = _submit(onestop, applicant=None)
    assert nobody.status_code == 400 and nobody.json()["field"] == "applicant"
    person = _submit(onestop, applicantKind="person")
    assert person.status_code == 400 and person.json()["field"] == "applicantKind"
    assert _submit(onestop, bundle="unknown").status_code == 404
    single = _submit(onestop, key="single", bundle=None, item="HP-XK-0004")
    assert single.status_code == 201 and [a["item"] for a in single.json()["applications"]] == ["HP-XK-0004"]


def test_a_department_works_its_queue_and_only_its_queue(onestop: Api) -> None:
    apps = _submit(onestop).json()["applications"]
    market, fire = _clerk(onestop, "market-supervision"), _clerk(onestop, "fire-rescue")
    q = onestop.get("/onestop/applications", params={"state": "submitted"}, token=market)
    assert q.status_code == 200 and q.json()["total"] == 2
    assert [a["item"] for a in q.json()["applications"]] == ["HP-XK-0001", "HP-XK-0002"]
    assert onestop.get("/onestop/applications", params={"department": "fire-rescue"}, token=market).status_code == 403
    assert onestop.get("/onestop/applications", token=None).status_code == 401
    fire_app = apps[3]["id"]
    wrong = _act(onestop, fire_app, "receive", token=market)
    assert wrong.status_code == 403 and "fire-rescue" in wrong.json()["detail"]
    assert onestop.get(f"/onestop/applications/{fire_app}", token=market).status_code == 403
    got = _act(onestop, fire_app, "receive", token=fire)
    assert got.status_code == 200 and got.json()["state"] == "received" and got.json()["clock"]["state"] == "on-time"
    conflict = _act(onestop, fire_app, "receive", token=fire)
    body = conflict.json()
    assert conflict.status_code == 409 and body["allowed"] == ["request-supplement", "suspend", "approve", "reject",
                                                                "withdraw"]  # fmt: skip
    assert "request-supplement" in body["detail"] and body["type"].endswith("application-action-refused")
    no_reason = _act(onestop, fire_app, "reject", token=fire)
    assert no_reason.status_code == 400 and no_reason.json()["field"] == "reason"
    assert _act(onestop, fire_app, "supply", token=fire).status_code == 409  # not paused
    asked = _act(onestop, fire_app, "request-supplement", token=fire, reason="请补充消防平面图")
    assert asked.json()["state"] == "supplement-requested"
    assert _act(onestop, fire_app, "supply", token=fire).status_code == 403  # the applicant's action
    supplied = _act(onestop, fire_app, "supply")  # the administrator, for the applicant
    assert supplied.json()["state"] == "received"
    approved = _act(onestop, fire_app, "approve", token=fire).json()
    assert approved["state"] == "approved" and approved["allowedActions"] == ["issue-certificate"]
    assert [h["toState"] for h in approved["history"]] == ["submitted", "received", "supplement-requested",
                                                            "received", "approved"]  # fmt: skip
    assert _act(onestop, fire_app, "dance", token=fire).status_code == 400
    assert _act(onestop, "nope", "receive", token=fire).status_code == 404
    reader = create_token(onestop.rt.db, "reader", role="reader", kind="staff")
    assert onestop.get(f"/onestop/applications/{fire_app}", token=reader).status_code == 403


def test_no_catalogue_installed_is_a_503(api: Api) -> None:
    install_catalogue(api.rt, None)  # the component installs the shipped one at start
    r = api.post("/onestop/submissions", json=BODY, headers={"Idempotency-Key": "k"})
    assert r.status_code == 503 and r.json()["type"].endswith("no-service-catalogue")
