"""Bad input to /cases and Open311 answers 400 naming the field (issue 16, findings 7 and 11): an empty
category or origin, an origin a report sets itself, an Open311 date range that ends before it starts."""

from __future__ import annotations

from conftest import Api

from cityos.auth.service import create_principal, issue_token
from cityos.runtime import Runtime

LAMP = {"source": "app", "text": "路灯不亮", "category": "streetlight-out", "address": "中山东一路 1 号"}


def token(rt: Runtime, name: str, role: str) -> str:
    return issue_token(rt.db, create_principal(rt.db, name, role=role, kind="staff"))


def refused(r: object, field: str) -> None:
    assert getattr(r, "status_code", None) == 400, getattr(r, "text", r)
    body = r.json()  # type: ignore[attr-defined]
    assert body["type"].endswith(("invalid-input", "invalid-case")) and field in body["detail"], body


def test_an_empty_category_is_refused_naming_it(api: Api, rt: Runtime) -> None:
    desk = token(rt, "desk", "operator")
    refused(api.post("/cases", json={**LAMP, "category": ""}, token=desk), "category")
    refused(api.post("/cases/batch", json={"reports": [{**LAMP, "category": ""}]}, token=desk), "category")
    assert api.post("/cases", json=LAMP, token=desk).status_code == 201


def test_an_empty_origin_is_refused_and_later_reports_still_open_cases(api: Api, rt: Runtime) -> None:
    desk = token(rt, "desk", "operator")
    for place in ("外滩 1 号", "外滩 2 号"):  # the second one failed once the first was stored with origin ""
        refused(api.post("/cases", json={**LAMP, "address": place, "origin": ""}, token=desk), "origin")
    assert api.post("/cases", json={**LAMP, "address": "外滩 3 号"}, token=desk).status_code == 201
    assert api.post("/cases", json={**LAMP, "address": "外滩 4 号"}, token=desk).status_code == 201


def test_a_report_over_the_api_may_not_set_its_origin(api: Api, rt: Runtime) -> None:
    app = token(rt, "citizen-app", "reporter")
    # a warning's case is one per origin: a reporter who could name it could take it over or block it
    refused(api.post("/cases", json={**LAMP, "origin": "warning:w-1"}, token=app), "origin")
    desk = token(rt, "desk", "operator")
    refused(
        api.post("/cases/batch", json={"reports": [LAMP, {**LAMP, "origin": "x"}]}, token=desk), "reports[1].origin"
    )
    assert api.get("/cases", token=desk).json()["total"] == 0


def test_an_open311_range_that_ends_before_it_starts_is_refused(api: Api) -> None:
    params = {"start_date": "2026-01-02T00:00:00Z", "end_date": "2026-01-01T00:00:00Z"}
    r = api.get("/open311/v2/requests.json", params=params, token=None)
    assert r.status_code == 400, r.text
    [error] = r.json()
    assert error["code"] == 400 and "start_date" in error["description"] and "end_date" in error["description"]
    alone = api.get("/open311/v2/requests.json", params={"start_date": "2999-01-01T00:00:00Z"}, token=None)
    assert alone.status_code == 400  # without end_date the range ends now, before this start
    same = {"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-01-01T00:00:00Z"}
    assert api.get("/open311/v2/requests.json", params=same, token=None).status_code == 200
