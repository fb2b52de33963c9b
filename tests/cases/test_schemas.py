"""The typed answers: every /cases route declares its answer in the API description, a case keeps the shape
the dashboard reads, and the Open311 descriptions agree with what the routes answer."""

from __future__ import annotations

from typing import Any

from conftest import Api
from pydantic import TypeAdapter

from cityos.cases.open311_schemas import PostedRequest, RequestToken, Service, ServiceDefinition, ServiceRequest

CASE_KEYS = {
    "id", "state", "source", "category", "mainCategory", "priority", "text", "address", "lon", "lat", "grid",
    "street", "unit", "department", "cooperating", "reporter", "attachments", "classification", "needsConfirmation",
    "origin", "routing", "timeLimit", "dueAt", "remindAt", "approximateDue", "escalationLevel", "reports", "returns",
    "reopens", "rating", "result", "mergedInto", "createdAt", "updatedAt", "handledAt", "closedAt", "version",
    "followToken", "placement",
}  # fmt: skip
PUBLIC_KEYS = {
    "id", "state", "category", "mainCategory", "text", "address", "lon", "lat", "department", "dueAt", "createdAt",
    "updatedAt", "closedAt", "result", "rating", "mergedInto", "attachments",
}  # fmt: skip
LAMP = {"text": "路灯不亮", "category": "streetlight-out", "lon": 121.48, "lat": 31.23}


def _json_answer(op: dict[str, Any]) -> dict[str, Any]:
    ok = next(answer for status, answer in op["responses"].items() if status.startswith("2"))
    schema: dict[str, Any] = ok["content"]["application/json"]["schema"]
    return schema


def test_every_cases_route_declares_its_answer(api: Api) -> None:
    paths = api.get("/openapi.json").json()["paths"]
    routes = [(p, m, op) for p, ops in paths.items() if p.startswith(("/cases", "/open311")) for m, op in ops.items()]
    assert len(routes) >= 19  # 13 /cases routes, 6 Open311 ones
    for path, method, op in routes:
        schema = _json_answer(op)
        assert "$ref" in schema or "$ref" in schema.get("items", {}), f"{method} {path}: {schema}"
        if path.startswith("/open311"):
            assert "text/xml" in op["responses"]["200"]["content"], f"{method} {path}"


def test_a_case_keeps_the_shape_the_dashboard_reads(api: Api) -> None:
    body = {**LAMP, "reporter": {"name": "王先生"}}
    case = api.post("/cases", json=body).json()["case"]
    assert set(case) == CASE_KEYS
    assert case["reporter"] == {"name": "王先生"}  # only what the reporter gave, no empty fields
    assert case["classification"] is None and case["handledAt"] is None  # empty fields are there, as null
    assert set(case["routing"]) == {"department", "cooperating", "rule", "level", "explanation", "explanationZh"}
    detail = api.get(f"/cases/{case['id']}").json()
    assert set(detail) == {"case", "history", "allowed"} and set(detail["case"]) == CASE_KEYS
    assert set(detail["history"][0]) == {"seq", "at", "action", "actor", "role", "reason", "data", "from", "to"}
    assert detail["history"][0]["from"] is None and detail["history"][-1]["from"] == "registered"
    followed = api.get(f"/cases/follow/{case['followToken']}", token=None).json()
    assert set(followed["case"]) == PUBLIC_KEYS and set(followed["steps"][0]) == {"at", "action", "to"}


def test_the_open311_descriptions_agree_with_the_answers(api: Api) -> None:
    case = api.post("/cases", json=LAMP).json()["case"]

    def check(path: str, shape: Any, **kw: Any) -> None:
        method = "POST" if "data" in kw else "GET"
        r = api.request(method, f"/open311/v2{path}", token=None, **kw)
        assert r.status_code in (200, 201), r.text
        TypeAdapter(shape).validate_python(r.json(), strict=True)

    check("/services.json", list[Service])
    check("/services/streetlight-out.json", ServiceDefinition)
    check("/requests.json", list[ServiceRequest])
    check(f"/requests/{case['id']}.json", list[ServiceRequest])
    check(f"/tokens/{case['followToken']}.json", list[RequestToken])
    form = {"api_key": api.token, "service_code": "streetlight-out", "lat": "31.2", "long": "121.4"}
    check("/requests.json", list[PostedRequest], data=form)
