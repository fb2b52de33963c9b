"""The policy matching routes over ASGI on SQLite and PostgreSQL: the policy office lists the policies and runs
one in the background (202, running, its progress at its Location, done by the onestop role the test app
holds; an operator any policy, a department its own only), sees who matched and why, masked; a person reads
the notice in the portal inbox and confirms it (意愿确认) into a grant; another's notice is not theirs;
problem documents."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
from conftest import Api
from test_policy_matching import HP, PEOPLE, _load, card_of

from cityos import datahub
from cityos.auth import Subject, sign_in_subject
from cityos.auth.service import create_token
from cityos.demo.sharing import load_grants

T = "default"


@pytest.fixture
def ready(api: Api) -> tuple[Api, list[str]]:
    datahub.load_catalogue(api.rt, T, by="test")
    load_grants(api.rt, T)
    return api, _load(api.rt, PEOPLE)


def _finished(api: Api, r: httpx.Response, seconds: float = 60.0) -> dict[str, Any]:
    """The run a POST answered (202, running, its address in Location) once the onestop role's runner, which
    the test app holds, has done it."""
    assert r.status_code == 202, r.text
    assert r.json()["state"] == "running" and r.headers["location"].endswith(f"/runs/{r.json()['id']}")
    deadline = time.monotonic() + seconds
    while True:
        run = api.get(r.headers["location"]).json()
        if run["state"] != "running" or time.monotonic() > deadline:
            return dict(run)
        time.sleep(0.2)


def _login(api: Api, n: int, entity_id: str) -> str:
    card = card_of(n, *PEOPLE[n][:2])
    return sign_in_subject(api.rt.db, f"citizen:test-{n}", Subject("person", card, entity_id), tenant=T)[0]


def test_the_office_runs_a_policy_and_the_person_confirms(ready: tuple[Api, list[str]]) -> None:
    api, ids = ready
    listed = api.get("/onestop/policies").json()["policies"]
    assert len(listed) >= 10 and {p["mode"] for p in listed} == {"notify", "grant"}
    run = _finished(api, api.post("/onestop/policies/P-ELDER-ALLOWANCE/runs"))
    assert run["state"] == "done" and run["matched"] == run["notified"] >= 2 and run["auditSeqs"]
    assert run["read"] == run["subjects"] == len(PEOPLE) and run["attempts"] == 1
    detail = api.get("/onestop/policies/P-ELDER-ALLOWANCE").json()
    assert detail["runs"][0]["id"] == run["id"] and detail["policy"]["counts"]["pending"] == run["notified"]
    why = {m["subjectId"]: m["inputs"] for m in detail["matches"]}
    assert why[ids[0]]["age"] >= 86 and why[ids[0]]["registeredAddress"] not in (HP, None)
    token = _login(api, 0, ids[0])
    inbox = api.get("/onestop/me/notices", token=token).json()["notices"]
    assert [n["policyCode"] for n in inbox] == ["P-ELDER-ALLOWANCE"] and inbox[0]["mode"] == "grant"
    r = api.post(f"/onestop/me/notices/{inbox[0]['id']}/confirm", token=token)
    assert r.status_code == 200, r.text
    assert r.json()["policyVersion"] == 1 and r.json()["confirmedBy"] == "citizen:test-0"
    again = api.post(f"/onestop/me/notices/{inbox[0]['id']}/confirm", token=token)
    assert again.status_code == 409 and again.json()["type"].endswith("policy-notice-move-refused")
    other = _login(api, 1, ids[1])
    r = api.post(f"/onestop/me/notices/{inbox[0]['id']}/decline", token=other)
    assert r.status_code == 404 and r.json()["status"] == 404
    counts = api.get("/onestop/policies/P-ELDER-ALLOWANCE").json()["policy"]["counts"]
    assert counts["granted"] == 1 and counts["pending"] == run["notified"] - 1
    rerun = _finished(api, api.post("/onestop/policies/P-ELDER-ALLOWANCE/runs"))
    assert rerun["notified"] == 0 and rerun["matched"] == run["matched"]


def test_a_department_runs_its_own_policies_only(ready: tuple[Api, list[str]]) -> None:
    api, ids = ready
    civil = create_token(api.rt.db, "civil-affairs", role="department", kind="department")
    health = create_token(api.rt.db, "health", role="department", kind="department")
    mine = api.post("/onestop/policies/P-ELDER-ALLOWANCE/runs", token=civil)
    assert _finished(api, mine)["state"] == "done"
    assert api.get(mine.headers["location"], token=health).status_code == 403  # another department's run
    wrong = mine.headers["location"].replace("P-ELDER-ALLOWANCE", "P-CENTENARIAN")
    assert api.get(wrong, token=civil).json()["type"].endswith("policy-run-not-found")
    r = api.post("/onestop/policies/P-ELDER-ALLOWANCE/runs", token=health)
    assert r.status_code == 403 and "civil-affairs" in r.json()["detail"]
    own = {p["code"] for p in api.get("/onestop/policies", token=health).json()["policies"]}
    assert own and all(c in ("P-ONLY-CHILD-PARENTS", "P-ELDER-FLU-VACCINE") for c in own)
    citizen = _login(api, 0, ids[0])
    assert api.post("/onestop/policies/P-ELDER-ALLOWANCE/runs", token=citizen).status_code == 403
    assert api.get("/onestop/me/notices").status_code == 400  # an operator is no person: no inbox
    missing = api.post("/onestop/policies/NO-SUCH/runs")
    assert missing.status_code == 404 and missing.json()["type"].endswith("policy-not-found")
