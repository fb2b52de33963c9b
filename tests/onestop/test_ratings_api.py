"""好差评 over HTTP on SQLite and PostgreSQL (issue 21 part 3): an enterprise rates its own handled applications
(never another's, never twice, never before they are handled); a 差评 opens a follow-up the department answers,
the rater disputes and accepts; an overdue one is reminded then escalated to the 12345 centre; a closed case's
rating becomes a rating record through the cases' bus event; and the figures per department, item and channel."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from conftest import Api, wait_for
from onestop_samples import ANSWERS, COMPANY, ITEMS, RESTAURANT

from cityos.auth import Subject, create_token, sign_in_subject
from cityos.bus import Event
from cityos.onestop import install_catalogue, ratings, satisfaction_figures, static_catalogue

OTHER = "91310101MA1FPX9876"


@pytest.fixture
def onestop(api: Api) -> Api:
    install_catalogue(api.rt, static_catalogue(ITEMS, [RESTAURANT], applicable=lambda b, a: [i.item for i in b.items]))
    return api


def _enterprise(api: Api, key: str, name: str) -> str:
    subject = Subject("enterprise", key, f"urn:ngsi-ld:Organization:{name}")
    return sign_in_subject(api.rt.db, name, subject, tenant="default")[0]


def _clerk(api: Api, department: str) -> str:
    return create_token(api.rt.db, department, role="department", kind="department")


def _act(api: Api, app_id: str, action: str, token: str, **body: Any) -> dict[str, Any]:
    r = api.post(f"/onestop/applications/{app_id}/actions/{action}", json=body or None, token=token)
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def _handled(api: Api, owner: str) -> list[dict[str, Any]]:
    """The restaurant bundle submitted by ``owner``: its licence approved, its food permit refused at intake,
    the rest left open."""
    r = api.post("/onestop/submissions", json={"bundle": "restaurant", "answers": ANSWERS},
                 headers={"Idempotency-Key": "rate-1"}, token=owner)  # fmt: skip
    assert r.status_code == 201, r.text
    apps = r.json()["applications"]
    market = _clerk(api, "market-supervision")
    _act(api, apps[0]["id"], "receive", market)
    _act(api, apps[0]["id"], "approve", market)
    _act(api, apps[1]["id"], "refuse", market, reason="材料不齐")
    return apps  # type: ignore[no-any-return]


def _rate(api: Api, token: str, app_id: str, level: int, reasons: list[str], **more: Any) -> Any:
    return api.post("/onestop/me/ratings", json={"application": app_id, "level": level, "reasons": reasons, **more},
                    token=token)  # fmt: skip


def test_an_applicant_rates_its_own_handled_applications_once(onestop: Api) -> None:
    owner = _enterprise(onestop, COMPANY, "enterprise:owner")
    apps = _handled(onestop, owner)
    open_one = _rate(onestop, owner, apps[3]["id"], 5, ["fast"])
    assert open_one.status_code == 409 and open_one.json()["type"].endswith("not-ratable-yet")
    good = _rate(onestop, owner, apps[0]["id"], 5, ["fast", "courteous"], comment="很快")
    assert good.status_code == 201, good.text
    body = good.json()
    assert (body["level"], body["levelZh"], body["outcome"], body["channel"]) == (5, "非常满意", "approved", "online")
    assert body["followUp"] is None and body["department"] == "market-supervision" and body["item"] == "HP-XK-0001"
    again = _rate(onestop, owner, apps[0]["id"], 4, ["fast"])
    assert again.status_code == 409 and again.json()["rating"] == body["id"] and "one rating" in again.json()["detail"]
    stranger = _enterprise(onestop, OTHER, "enterprise:stranger")
    assert _rate(onestop, stranger, apps[0]["id"], 1, ["slow"]).status_code == 404  # learns nothing of another's
    wrong = _rate(onestop, owner, apps[1]["id"], 2, ["fast"])
    assert wrong.status_code == 400 and wrong.json()["field"] == "reasons" and "slow" in wrong.json()["detail"]
    bare = _rate(onestop, owner, apps[1]["id"], 1, [])
    assert bare.status_code == 400 and bare.json()["field"] == "reasons"
    assert _rate(onestop, owner, apps[1]["id"], 6, []).json()["field"] == "level"
    assert _rate(onestop, owner, apps[1]["id"], 1, ["slow"], channel="fax").status_code == 400
    clerk = _clerk(onestop, "market-supervision")
    assert _rate(onestop, clerk, apps[0]["id"], 5, ["fast"]).status_code == 403  # a department rates nothing
    mine = onestop.get("/onestop/me/ratings", token=owner).json()
    assert [r["subjectId"] for r in mine] == [apps[0]["id"]]
    assert onestop.get("/onestop/me/ratings", token=stranger).json() == []
    levels = onestop.get("/onestop/ratings/levels", token=None).json()
    assert [lv["level"] for lv in levels["levels"]] == [5, 4, 3, 2, 1]
    assert "phone-12345" in [c["code"] for c in levels["channels"]]


def test_a_bad_rating_is_answered_disputed_answered_again_and_accepted(onestop: Api) -> None:
    owner = _enterprise(onestop, COMPANY, "enterprise:owner")
    apps = _handled(onestop, owner)
    seen: list[Event] = []
    onestop.rt.bus.subscribe("onestop.rating.>", seen.append)
    r = _rate(onestop, owner, apps[1]["id"], 1, ["runaround", "unclear-guide"], channel="window", comment="跑了三趟")
    assert r.status_code == 201, r.text
    fu = r.json()["followUp"]
    assert fu["state"] == "opened" and fu["holder"] == "market-supervision" and fu["allowedActions"] == ["answer"]
    assert datetime.fromisoformat(fu["dueAt"]) - datetime.fromisoformat(fu["openedAt"]) >= timedelta(days=15)
    assert [e.subject for e in seen] == ["onestop.rating.recorded", "onestop.rating.follow_up.opened"]
    assert COMPANY not in str([e.data for e in seen])  # events travel: no rater's key in them
    market, fire = _clerk(onestop, "market-supervision"), _clerk(onestop, "fire-rescue")
    q = onestop.get("/onestop/rating-follow-ups", token=market).json()
    assert q["total"] == 1 and q["followUps"][0]["rating"]["level"] == 1
    assert q["followUps"][0]["rating"]["outcome"] == "refused-at-intake"
    assert onestop.get("/onestop/rating-follow-ups", token=fire).json()["total"] == 0
    assert onestop.get(f"/onestop/rating-follow-ups/{fu['id']}", token=fire).status_code == 403
    assert onestop.post(f"/onestop/rating-follow-ups/{fu['id']}/actions/answer", json={"text": "x"},
                        token=owner).status_code == 403  # fmt: skip
    early = onestop.post(f"/onestop/me/rating-follow-ups/{fu['id']}/actions/accept", token=owner)
    assert early.status_code == 409 and early.json()["allowed"] == ["answer"]
    mute = onestop.post(f"/onestop/rating-follow-ups/{fu['id']}/actions/answer", token=market)
    assert mute.status_code == 400 and mute.json()["field"] == "text"
    dance = onestop.post(f"/onestop/rating-follow-ups/{fu['id']}/actions/escalate", token=market)
    assert dance.status_code == 400 and dance.json()["field"] == "action"

    def answer(text: str) -> dict[str, Any]:
        r = onestop.post(f"/onestop/rating-follow-ups/{fu['id']}/actions/answer", json={"text": text}, token=market)
        assert r.status_code == 200, r.text
        return r.json()  # type: ignore[no-any-return]

    assert answer("已电话致歉，告知一次性补齐材料清单")["state"] == "answered"
    disputed = onestop.post(f"/onestop/me/rating-follow-ups/{fu['id']}/actions/dispute", json={"text": "清单仍不全"},
                            token=owner).json()  # fmt: skip
    assert disputed["state"] == "disputed" and disputed["round"] == 2
    stranger = _enterprise(onestop, OTHER, "enterprise:stranger")
    assert onestop.post(f"/onestop/me/rating-follow-ups/{fu['id']}/actions/accept",
                        token=stranger).status_code == 404  # fmt: skip
    second = answer("已补发完整清单")
    assert second["answeredOnTime"] is True and second["answer"] == "已补发完整清单"
    done = onestop.post(f"/onestop/me/rating-follow-ups/{fu['id']}/actions/accept", token=owner).json()
    assert done["state"] == "accepted" and done["allowedActions"] == []
    assert [h["action"] for h in done["history"]] == ["open", "answer", "dispute", "answer", "accept"]
    final = onestop.post(f"/onestop/me/rating-follow-ups/{fu['id']}/actions/dispute", json={"text": "再议"},
                         token=owner)  # fmt: skip
    assert final.status_code == 409 and "final" in final.json()["detail"]
    assert _rate(onestop, owner, apps[0]["id"], 4, ["fast"]).status_code == 201
    stats = onestop.get("/onestop/ratings/stats", params={"by": "channel"}, token=market).json()
    overall = stats["overall"]
    assert (overall["ratings"], overall["good"], overall["goodRate"]) == (2, 1, 0.5)
    assert overall["levels"] == {"1": 1, "2": 0, "3": 0, "4": 1, "5": 0}
    assert (overall["followUps"], overall["answeredOnTime"], overall["onTimeRate"]) == (1, 1, 1.0)
    assert {g["key"]: g["ratings"] for g in stats["groups"]} == {"window": 1, "online": 1}
    by_item = onestop.get("/onestop/ratings/stats", params={"by": "item"}, token=market).json()
    assert {g["key"]: g["goodRate"] for g in by_item["groups"]} == {"HP-XK-0001": 1.0, "HP-XK-0002": 0.0}
    figures = satisfaction_figures(onestop.rt, "default")
    assert (figures["ratings"], figures["good_rate"], figures["open_follow_ups"]) == (2, 0.5, 0)
    later = onestop.get("/onestop/ratings/stats", params={"since": "2999-01-01T00:00:00+08:00"}, token=market).json()
    assert later["overall"]["ratings"] == 0 and later["overall"]["goodRate"] is None
    naive = onestop.get("/onestop/ratings/stats", params={"since": "2026-01-01T00:00:00"}, token=market)
    assert naive.status_code == 400 and naive.json()["field"] == "since"
    assert onestop.get("/onestop/ratings/stats", token=owner).status_code == 403


def test_an_unanswered_bad_rating_is_reminded_then_escalated_to_the_12345_centre(onestop: Api) -> None:
    owner = _enterprise(onestop, COMPANY, "enterprise:owner")
    apps = _handled(onestop, owner)
    fu = _rate(onestop, owner, apps[1]["id"], 2, ["slow"]).json()["followUp"]
    remind_at, due_at = datetime.fromisoformat(fu["remindAt"]), datetime.fromisoformat(fu["dueAt"])
    assert remind_at < due_at
    seen: list[Event] = []
    onestop.rt.bus.subscribe("onestop.rating.follow_up.*", seen.append)
    assert ratings.tick(onestop.rt, "default", now=remind_at - timedelta(minutes=1)) == ratings.Ticked(0, 0)
    assert ratings.tick(onestop.rt, "default", now=remind_at + timedelta(minutes=1)) == ratings.Ticked(1, 0)
    assert ratings.tick(onestop.rt, "default", now=remind_at + timedelta(minutes=2)) == ratings.Ticked(0, 0)
    assert ratings.tick(onestop.rt, "default", now=due_at + timedelta(minutes=1)) == ratings.Ticked(0, 1)
    assert [e.subject for e in seen] == ["onestop.rating.follow_up.reminded", "onestop.rating.follow_up.escalated"]
    assert seen[1].data["holder"] == "12345-centre"
    market = _clerk(onestop, "market-supervision")
    assert onestop.get("/onestop/rating-follow-ups", token=market).json()["total"] == 0  # no longer its to answer
    got = onestop.get(f"/onestop/rating-follow-ups/{fu['id']}", token=market).json()["followUp"]
    assert got["state"] == "escalated" and got["escalated"] and [h["action"] for h in got["history"]] == [
        "open", "remind", "escalate"]  # fmt: skip
    refused = onestop.post(f"/onestop/rating-follow-ups/{fu['id']}/actions/answer", json={"text": "晚了"}, token=market)
    assert refused.status_code == 403
    centre = create_token(onestop.rt.db, "hotline-centre", role="operator", kind="staff")
    held = onestop.get("/onestop/rating-follow-ups", params={"holder": "12345-centre"}, token=centre).json()
    assert [f["followUp"]["id"] for f in held["followUps"]] == [fu["id"]]
    answered = onestop.post(f"/onestop/rating-follow-ups/{fu['id']}/actions/answer", json={"text": "督办后已整改"},
                            token=centre).json()  # fmt: skip
    assert answered["state"] == "answered" and answered["answeredOnTime"] is False
    figures = onestop.get("/onestop/ratings/stats", token=centre).json()["overall"]
    assert (figures["followUps"], figures["answered"], figures["answeredOnTime"]) == (1, 1, 0)


def test_a_closed_cases_rating_becomes_a_rating_record_through_the_bus(onestop: Api) -> None:
    desk = create_token(onestop.rt.db, "hotline-desk", role="operator", kind="staff")
    body = {"source": "hotline", "text": "路灯不亮", "category": "streetlight-out", "lon": 121.49, "lat": 31.24,
            "reporter": {"name": "李女士", "phone": "13900000000"}}  # fmt: skip
    r = onestop.post("/cases", json=body, token=desk)
    assert r.status_code == 201, r.text
    case = r.json()["case"]
    handler = _clerk(onestop, case["department"])
    for action, token, extra in (("accept", handler, {}), ("start", handler, {}),
                                 ("handle", handler, {"data": {"result": "已修复"}}),
                                 ("verify_ok", desk, {"role": "inspector", "data": {"verifier": "inspector"}}),
                                 ("close", desk, {})):  # fmt: skip
        done = onestop.post(f"/cases/{case['id']}/actions/{action}", json=extra, token=token)
        assert done.status_code == 200, done.text
    rated = onestop.post(f"/cases/follow/{case['followToken']}/rating", json={"rating": 1, "comment": "又坏了"},
                         token=None)  # fmt: skip
    assert rated.status_code == 200, rated.text
    q = wait_for(lambda: onestop.get("/onestop/rating-follow-ups", token=handler).json()["followUps"])
    rating = q[0]["rating"]
    assert (rating["subjectKind"], rating["subjectId"], rating["level"]) == ("case", case["id"], 1)
    assert (rating["channel"], rating["item"], rating["comment"]) == ("phone-12345", "streetlight-out", "又坏了")
    assert q[0]["followUp"]["holder"] == case["department"]
    # the same event heard again (a redelivery) records nothing new
    again = ratings.rate_case(onestop.rt, "default", {"caseId": case["id"], "rating": 1, "category": "x"})
    assert again is not None and again.id == rating["id"]
    # the 12345 centre calls the reporter back once the department answered, and records the reporter's word
    fid = q[0]["followUp"]["id"]
    onestop.post(f"/onestop/rating-follow-ups/{fid}/actions/answer", json={"text": "已更换灯具"}, token=handler)
    centre = create_token(onestop.rt.db, "hotline-centre", role="operator", kind="staff")
    back = onestop.post(f"/onestop/rating-follow-ups/{fid}/actions/accept", json={"text": "回访：认可"}, token=centre)
    assert back.status_code == 200 and back.json()["state"] == "accepted"
    by_dept = onestop.get("/onestop/ratings/stats", params={"by": "department"}, token=desk).json()
    assert [(g["key"], g["ratings"], g["goodRate"]) for g in by_dept["groups"]] == [(case["department"], 1, 0.0)]
