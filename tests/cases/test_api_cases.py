"""The cases API on SQLite and PostgreSQL: a 12345 report, a warning and an Alert each taken from report
to close; duplicates, queues, the routing dry run, time limits, supervision, and bad input."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import Api, wait_for

from cityos.auth.service import create_principal, issue_token
from cityos.bus import Event
from cityos.cases import classifying, service, sources
from cityos.cases.classifier import Classifier
from cityos.cases.schemas import CaseView
from cityos.runtime import Runtime
from cityos.vitals import service as vitals

BUND = (121.4905, 31.2397)
LD = {"Content-Type": "application/ld+json"}
CTX = ["https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld"]


@pytest.fixture
def classifier(api: Api) -> Classifier:
    """The app's classifier once loaded: until then a request that needs it answers 503 (test_classifying.py)."""
    return classifying.slot(api.rt).wait(timeout=300)


def shown(case: CaseView) -> dict[str, Any]:
    """A case as the API shows it."""
    return case.model_dump(mode="json", by_alias=True)


def department_token(rt: Runtime, department: str) -> str:
    p = create_principal(
        rt.db, department, role="department", kind="department"
    )  # acts for the department it is named after
    return issue_token(rt.db, p)


def operator_token(rt: Runtime) -> str:
    return issue_token(rt.db, create_principal(rt.db, "hotline-desk", role="operator", kind="staff"))


def act(api: Api, case_id: str, action: str, token: str, **body: Any) -> dict[str, Any]:
    r = api.post(f"/cases/{case_id}/actions/{action}", json=body, token=token)
    assert r.status_code == 200, r.text
    return r.json()


def handle_and_close(api: Api, rt: Runtime, case: dict[str, Any], desk: str) -> dict[str, Any]:
    """The department accepts, starts and handles; an inspector verifies; the desk closes."""
    handler = department_token(rt, case["department"])
    act(api, case["id"], "accept", handler)
    act(api, case["id"], "start", handler)
    act(api, case["id"], "handle", handler, data={"result": "已处置完毕 / done"})
    act(api, case["id"], "verify_ok", desk, role="inspector", data={"verifier": "inspector"})
    return act(api, case["id"], "close", desk)


def test_a_12345_report_is_classified_routed_handled_verified_closed_and_rated(
    api: Api, rt: Runtime, classifier: Classifier
) -> None:
    told: list[Event] = []
    rt.bus.subscribe("case.reporter.notify", told.append)
    desk = operator_token(rt)
    body = {
        "source": "hotline",
        "text": "小区门口的垃圾桶满了三天没人清运，臭气熏天",
        "lon": BUND[0],
        "lat": BUND[1],
        "address": "中山东一路 1 号",
        "reporter": {"name": "王先生", "phone": "13800000000"},
    }
    r = api.post("/cases", json=body, token=desk)
    assert r.status_code == 201, r.text
    case = r.json()["case"]
    assert case["category"] == "garbage-uncollected" and case["classification"]["sub"] == "garbage-uncollected"
    assert case["state"] == "dispatched" and case["department"] == "city-appearance" and case["dueAt"]
    closed = handle_and_close(api, rt, case, desk)
    assert closed["state"] == "closed" and closed["result"] == "已处置完毕 / done"
    assert told and told[0].data["caseId"] == case["id"] and "已办结" in told[0].data["message"]
    # the reporter follows the case by its token, without a login, and rates it
    follow = api.get(f"/cases/follow/{case['followToken']}", token=None).json()
    assert follow["case"]["state"] == "closed" and "reporter" not in follow["case"]
    assert [s["to"] for s in follow["steps"]] == [
        "reported", "registered", "dispatched", "accepted", "in_progress", "handled", "verified", "closed"
    ]  # fmt: skip
    bad = api.post(f"/cases/follow/{case['followToken']}/rating", json={"rating": 9}, token=None)
    assert bad.status_code == 409 and "rating" in bad.json()["detail"]
    asked: list[Event] = []
    rt.bus.subscribe("case.reopen_requested", asked.append)
    r = api.post(f"/cases/follow/{case['followToken']}/rating", json={"rating": 2, "comment": "没扫干净"}, token=None)
    assert asked and asked[0].data["comment"] == "没扫干净"
    assert r.status_code == 200 and r.json()["reopenRequested"] is True
    figures = api.get("/cases/supervision", params={"by": "department"}, token=desk).json()
    city = next(g for g in figures["groups"] if g["key"] == ["city-appearance"])
    assert (city["cases"], city["closed"], city["onTimeRate"], city["satisfaction"]) == (1, 1, 1.0, 0.0)
    reopened = act(api, case["id"], "reopen", desk, reason="the reporter was not satisfied")
    assert reopened["state"] == "registered" and reopened["reopens"] == 1
    detail = api.get(f"/cases/{case['id']}", token=desk).json()
    assert [h["action"] for h in detail["history"]][-2:] == ["rate", "reopen"]
    assert "dispatch" in detail["allowed"]["dispatcher"]
    figures = api.get("/cases/supervision", params={"by": "department"}, token=desk).json()
    assert figures["overall"]["reopenRate"] == 1.0


def test_bad_input_gets_a_reason_and_nothing_is_half_written(api: Api, rt: Runtime) -> None:
    desk = operator_token(rt)
    unknown = api.post("/cases", json={"text": "x", "category": "no-such-thing", "lon": 121.5, "lat": 31.2}, token=desk)
    assert unknown.status_code == 400 and "GET /cases/taxonomy" in unknown.json()["detail"]
    nowhere = api.post("/cases", json={"text": "路灯坏了"}, token=desk)
    assert nowhere.status_code == 400 and "place" in nowhere.text
    assert api.get("/cases", token=desk).json()["total"] == 0
    case = api.post("/cases", json={"text": "路灯不亮", "category": "streetlight-out", "lon": 121.48, "lat": 31.23},
                    token=desk).json()["case"]  # fmt: skip
    refused = api.post(f"/cases/{case['id']}/actions/close", json={}, token=desk)
    assert (
        refused.status_code == 409
        and "reassign" in refused.json()["allowed"]
        and "verification" in refused.json()["detail"]
    )
    other = department_token(rt, "water-affairs")
    r = api.post(f"/cases/{case['id']}/actions/accept", json={}, token=other)
    assert r.status_code == 403 and "return it" in r.json()["detail"]
    assert api.post("/cases", json={"text": "x", "category": "streetlight-out"}, token=None).status_code == 401
    assert len(api.get(f"/cases/{case['id']}", token=desk).json()["history"]) == 3  # report, register, dispatch


def test_a_report_near_an_open_case_of_its_category_is_linked_not_opened(
    api: Api, rt: Runtime, classifier: Classifier
) -> None:
    desk = operator_token(rt)
    first = {"text": "井盖缺失，很危险", "category": "road-manhole-damaged", "lon": 121.4800, "lat": 31.2300}
    case = api.post("/cases", json=first, token=desk).json()["case"]
    again = {**first, "text": "这里的井盖没了", "lon": 121.48020, "lat": 31.23010}  # about 22 m away
    r = api.post("/cases", json=again, token=desk)
    assert r.status_code == 200 and r.json()["duplicateOf"] == case["id"] and r.json()["case"]["reports"] == 2
    far = {**first, "lon": 121.4900}  # about 950 m away
    assert api.post("/cases", json=far, token=desk).json()["created"] is True
    other_kind = {**first, "category": "road-damaged"}
    assert api.post("/cases", json=other_kind, token=desk).json()["created"] is True
    # a batch handed over at once: a report may repeat one earlier in the same batch
    texts = ["人行道上有一辆共享单车乱停", "小区门口垃圾没人清运", "垃圾没人收，门口堆满了"]
    batch = [service.NewCase(text=t, lon=121.47 + (i > 1) * 0.0001, lat=31.22) for i, t in enumerate(texts)]
    body = {"reports": [b.model_dump(exclude_none=True) for b in batch]}
    out = api.post("/cases/batch", json=body, token=desk).json()["results"]
    assert [o["created"] for o in out] == [True, True, False] and out[2]["duplicateOf"] == out[1]["case"]["id"]


def test_department_queues_dry_run_and_time_limits(api: Api, rt: Runtime, classifier: Classifier) -> None:
    desk = operator_token(rt)
    for n in range(3):
        body = {"text": f"路灯{n}不亮", "category": "streetlight-out", "lon": 121.47 + n / 100, "lat": 31.23}
        api.post("/cases", json=body, token=desk)
    dept = api.get("/cases/queue", token=department_token(rt, "urban-management")).json()
    lights = api.get("/cases/queue", params={"department": "city-appearance"}, token=desk).json()
    owner = api.get("/cases", params={"category": "streetlight-out"}, token=desk).json()["cases"][0]["department"]
    queue = api.get("/cases/queue", params={"department": owner}, token=desk).json()["cases"]
    assert len(queue) == 3 and [c["dueAt"] for c in queue] == sorted(c["dueAt"] for c in queue)
    assert dept["department"] == "urban-management" and lights["department"] == "city-appearance"
    peek = api.post("/cases/routing/dry-run", json={"text": "夜里工地还在施工，噪音很大"}, token=desk).json()
    assert peek["category"] == "construction-noise" and peek["department"] and peek["timeLimit"]
    assert isinstance(peek["trace"], list) and peek["explanationZh"]
    later = datetime.now(UTC) + timedelta(days=40)
    assert service.tick(rt, "default", later) == {"reminded": 3, "escalated": 3}
    case = api.get(f"/cases/{queue[0]['id']}", token=desk).json()
    assert case["case"]["escalationLevel"] == "street"
    assert [h["action"] for h in case["history"]][-2:] == ["remind", "escalate"]


def test_a_warning_opens_one_case_that_is_routed_handled_and_closed(api: Api, rt: Runtime) -> None:
    vitals.ensure_definitions(rt, "default")
    bund = "urn:ngsi-ld:ManagementUnit:test-bund"
    point = {"type": "Point", "coordinates": list(BUND)}
    name = {"type": "LanguageProperty", "languageMap": {"zh": "外滩观景平台", "en": "Bund terrace"}}
    entity = {"id": bund, "type": "ManagementUnit", "name": name,
              "location": {"type": "GeoProperty", "value": point}, "@context": CTX}  # fmt: skip
    assert api.post("/ngsi-ld/v1/entities", json=entity, headers=LD).status_code == 201
    raised = {"warningId": "w-1", "indicator": "bund_crowd_density", "scope": bund, "kind": "raised", "newLevel": 3,
              "oldLevel": 0, "value": 4.2}  # fmt: skip
    rt.bus.publish([Event("warning.raised", "w-1", raised, "default")])  # through the running CasesRunner
    case = shown(wait_for(lambda: service.search(rt, "default", source="sensor")[0])[0])
    assert case["category"] == "security-hazard" and case["origin"] == "warning:w-1" and case["priority"] == "urgent"
    assert case["state"] == "dispatched" and case["lon"] == BUND[0] and "外滩观景平台" in case["text"]
    again = sources.case_from_warning(rt, "default", {**raised, "kind": "escalated", "newLevel": 4})
    assert again is not None and again.created is False and again.case.id == case["id"]
    low = sources.case_from_warning(rt, "default", {**raised, "warningId": "w-2", "newLevel": 1})
    assert low is None  # blue is below the configured level
    closed = handle_and_close(api, rt, case, operator_token(rt))
    assert closed["state"] == "closed"


def test_an_ngsi_ld_alert_opens_a_case(api: Api, rt: Runtime) -> None:
    alert = {"id": "urn:ngsi-ld:Alert:test-1", "type": "Alert", "category": {"type": "Property", "value": "traffic"},
             "subCategory": {"type": "Property", "value": "trafficJam"},
             "description": {"type": "Property", "value": "延安东路隧道口严重拥堵"},
             "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [121.488, 31.232]}},
             "@context": CTX}  # fmt: skip
    assert api.post("/ngsi-ld/v1/entities", json=alert, headers=LD).status_code == 201
    case = shown(wait_for(lambda: service.search(rt, "default", source="alert")[0])[0])
    assert case["category"] == "traffic-congestion" and case["origin"] == "alert:urn:ngsi-ld:Alert:test-1"
    assert case["state"] == "dispatched" and case["department"]


def test_an_unsure_category_waits_for_a_dispatcher_whose_answer_is_learnt(
    api: Api, rt: Runtime, tmp_path: Path, classifier: Classifier
) -> None:
    desk = operator_token(rt)
    body = {"text": "这个问题反映好几次了，请尽快派人来处理一下", "lon": 121.48, "lat": 31.23}
    case = api.post("/cases", json=body, token=desk).json()["case"]
    assert case["needsConfirmation"] is True and case["state"] == "reported" and case["department"] is None
    waiting = api.get("/cases", params={"needs_confirmation": True}, token=desk).json()
    assert [c["id"] for c in waiting["cases"]] == [case["id"]]
    r = api.post(f"/cases/{case['id']}/category", json={"category": "road-damaged"}, token=desk)
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "dispatched" and r.json()["category"] == "road-damaged" and r.json()["department"]
    learnt = service.retrain(rt, tmp_path / "model.joblib")
    assert learnt.corrections == 1 and (tmp_path / "model.joblib").exists()
    assert learnt.after.main > 0.8  # the held-out figures still hold with the correction learnt
