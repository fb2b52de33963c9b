"""What the public and reporters see of a case (issue 16, finding 4): Open311, follow links and the answer to a
report that is linked to an earlier one show no reporter's data and no other reporter's follow token, and mask
the phone numbers, ID card numbers and names in the case's text; each report gets a follow token of its own,
with which a duplicate's reporter follows the case, is told when it closes, and rates only their own report."""

from __future__ import annotations

from typing import Any

from conftest import Api

from cityos.auth import create_token
from cityos.bus import Event
from cityos.runtime import Runtime

PLACE = {"lon": 121.4800, "lat": 31.2300}
NEAR = {"lon": 121.48020, "lat": 31.23010}  # about 22 m away: a duplicate
CALLER = {"name": "王小明", "phone": "13912345678", "email": "xiaoming.wang@example.org"}
SAID = "我叫王小明，井盖缺失很危险，回电 139-1234-5678，身份证 31010119900101123X"
SECRETS = ("王小明", "13912345678", "139-1234-5678", "31010119900101123X", "xiaoming.wang@example.org")
OPEN311 = "/open311/v2"


def hotline_case(api: Api, desk: str) -> dict[str, Any]:
    """A 12345 call taken by the desk: the caller's name, phone and e-mail, and a text that repeats them."""
    body = {"source": "hotline", "text": SAID, "category": "road-manhole-damaged", **PLACE, "reporter": CALLER}
    r = api.post("/cases", json=body, token=desk)
    assert r.status_code == 201, r.text
    return r.json()["case"]


def shows_nothing_personal(text: str, case: dict[str, Any]) -> None:
    for secret in (*SECRETS, case["followToken"]):
        assert secret not in text, f"{secret!r} leaked: {text}"


def close(api: Api, case: dict[str, Any], desk: str) -> None:
    admin = create_token(api.rt.db, "city-admin", role="admin")
    steps = [("accept", "handler", {}), ("start", "handler", {}), ("handle", "handler", {"result": "井盖已补装"}),
             ("verify_ok", "inspector", {"verifier": "inspector"}), ("close", "dispatcher", {})]  # fmt: skip
    for action, role, data in steps:
        r = api.post(f"/cases/{case['id']}/actions/{action}", json={"role": role, "data": data}, token=admin)
        assert r.status_code == 200, r.text


def test_a_reporter_app_linked_as_a_duplicate_gets_its_own_token_and_nobody_elses_data(api: Api, rt: Runtime) -> None:
    desk = create_token(rt.db, "hotline-desk", role="operator")
    first = hotline_case(api, desk)
    app = create_token(rt.db, "citizen-app", role="reporter")
    again = {"source": "app", "text": "这里的井盖没了", "category": "road-manhole-damaged", **NEAR,
             "reporter": {"name": "赵六", "phone": "13700001111"}}  # fmt: skip
    r = api.post("/cases", json=again, token=app)
    assert r.status_code == 200 and r.json()["duplicateOf"] == first["id"], r.text
    shows_nothing_personal(r.text, first)
    answer = r.json()
    assert "reporter" not in answer["case"] and "followToken" not in answer["case"]
    assert answer["case"]["text"] == "我叫王**，井盖缺失很危险，回电 139****5678，身份证 3****************X"
    mine = answer["followToken"]
    assert mine and mine != first["followToken"]
    followed = api.get(f"/cases/follow/{mine}", token=None)
    assert followed.status_code == 200 and followed.json()["case"]["id"] == first["id"]
    shows_nothing_personal(followed.text, first)
    # staff still see who called, and the duplicate's reporter in the case's history
    staff = api.get(f"/cases/{first['id']}", token=desk).json()
    assert staff["case"]["reporter"] == CALLER and staff["case"]["text"] == SAID
    assert staff["history"][-1]["data"]["duplicateReport"]["reporter"]["name"] == "赵六"


def test_a_reporter_apps_own_new_case_is_its_public_view_too(api: Api, rt: Runtime) -> None:
    app = create_token(rt.db, "citizen-app", role="reporter")
    body = {"source": "app", "text": SAID, "category": "road-manhole-damaged", **PLACE, "reporter": CALLER}
    r = api.post("/cases", json=body, token=app)
    assert r.status_code == 201, r.text
    assert "reporter" not in r.json()["case"] and "王小明" not in r.text and "13912345678" not in r.text
    assert api.get(f"/cases/follow/{r.json()['followToken']}", token=None).status_code == 200


def test_open311_publishes_hotline_cases_masked(api: Api, rt: Runtime) -> None:
    desk = create_token(rt.db, "hotline-desk", role="operator")
    first = hotline_case(api, desk)
    for fmt in ("json", "xml"):
        listed = api.get(f"{OPEN311}/requests.{fmt}", token=None)
        one = api.get(f"{OPEN311}/requests/{first['id']}.{fmt}", token=None)
        for r in (listed, one):
            assert r.status_code == 200 and first["id"] in r.text, r.text
            shows_nothing_personal(r.text, first)
            assert "139****5678" in r.text and "我叫王**" in r.text


def test_an_open311_duplicate_token_follows_and_rates_its_own_report_only(api: Api, rt: Runtime) -> None:
    desk = create_token(rt.db, "hotline-desk", role="operator")
    first = hotline_case(api, desk)
    key = create_token(rt.db, "citizen-app", role="reporter")
    form = {"api_key": key, "service_code": "road-manhole-damaged", "lat": str(NEAR["lat"]), "long": str(NEAR["lon"]),
            "description": "井盖没了", "first_name": "赵", "phone": "13700001111"}  # fmt: skip
    posted = api.post(f"{OPEN311}/requests.json", data=form, token=None)
    assert posted.status_code == 200, posted.text
    [answer] = posted.json()
    assert answer["service_request_id"] == first["id"] and answer["service_notice"]
    token = answer["token"]
    assert token != first["followToken"]
    shows_nothing_personal(posted.text, first)
    looked_up = api.get(f"{OPEN311}/tokens/{token}.json", token=None).json()
    assert looked_up == [{"service_request_id": first["id"], "token": token}]

    early = api.post(f"/cases/follow/{token}/rating", json={"rating": 5}, token=None)
    assert early.status_code == 409 and "closed" in early.json()["detail"]
    told: list[Event] = []
    rt.bus.subscribe("case.reporter.notify", told.append)
    close(api, first, desk)
    # each reporter is told the case closed, with their own follow link
    notices = {(e.data["reporter"]["phone"], e.data["followToken"]) for e in told}
    assert notices == {("13912345678", first["followToken"]), ("13700001111", token)}
    # the case's verification is its first reporter's (or an inspector's): not a duplicate's
    refused = api.post(f"/cases/follow/{token}/confirm", token=None)
    assert refused.status_code == 403 and "duplicate" in refused.json()["detail"], refused.text
    asked: list[Event] = []
    rt.bus.subscribe("case.reopen_requested", asked.append)
    rated = api.post(f"/cases/follow/{token}/rating", json={"rating": 1, "comment": "太慢了"}, token=None)
    assert rated.status_code == 200 and rated.json()["reopenRequested"] is True, rated.text
    assert rated.json()["case"]["rating"] is None  # the case's own rating is still its first reporter's
    assert asked and asked[0].data["comment"] == "太慢了" and asked[0].data["rating"] == 1
    again = api.post(f"/cases/follow/{token}/rating", json={"rating": 5}, token=None)
    assert again.status_code == 409 and "rated already" in again.json()["detail"]
    theirs = api.post(f"/cases/follow/{first['followToken']}/rating", json={"rating": 4}, token=None)
    assert theirs.status_code == 200 and theirs.json()["case"]["rating"] == 4
    history = api.get(f"/cases/{first['id']}", token=desk).json()["history"]
    assert [h["data"].get("reportRating") for h in history if "reportRating" in h["data"]] == [1]
