"""The shapes of the vitals answers: /openapi.json names the schema of each, and the JSON keeps its
members, with nulls present or absent as the dashboard reads them."""

from __future__ import annotations

import time
from typing import Any

import pytest
from conftest import Api

from cityos.runtime import Runtime
from cityos.vitals import service, store
from cityos.vitals.engine import IndicatorValue, LevelChange
from cityos.vitals.levels import Change

pytestmark = pytest.mark.settings(roles="ingest,notify")  # no engine: the values and warnings are the test's own
BUND = "urn:ngsi-ld:ManagementUnit:waitan"
MIN = 60_000
WARNING = {"id", "indicator", "scope", "level", "levelName", "levelZh", "grade", "peakLevel", "value", "active",
           "raisedAt", "updatedAt", "clearedAt", "acknowledgedBy", "acknowledgedAt"}  # fmt: skip
EVENT = {"at", "kind", "oldLevel", "newLevel", "value"}  # and actor, text when there is one
LEVEL = {"level", "levelName", "levelZh", "grade", "at", "probability"}


def named(schema: dict[str, Any]) -> list[str]:
    """The component schemas an answer's schema names: itself, its items, or each of its choices."""
    if "$ref" in schema:
        return [schema["$ref"].rsplit("/", 1)[-1]]
    if schema.get("type") == "array":
        return named(schema["items"])
    choices = schema.get("anyOf", [])
    return [n for c in choices for n in named(c)] if all("$ref" in c for c in choices) else []


def test_every_vitals_route_answers_a_named_schema(api: Api) -> None:
    doc = api.get("/openapi.json").json()
    schemas = doc["components"]["schemas"]
    checked = 0
    for path, ops in doc["paths"].items():
        if not path.startswith("/vitals/"):
            continue
        for method, op in ops.items():
            [ok] = [op["responses"][c] for c in ("200", "201") if c in op["responses"]]
            names = named(ok["content"]["application/json"]["schema"])
            assert names, f"{method} {path}: the answer has no named schema"
            for name in names:
                assert schemas[name].get("properties"), f"{method} {path}: {name} shows no members"
            checked += 1
    assert checked == 12
    forecast = doc["paths"]["/vitals/indicators/{indicator_id}/forecast"]["get"]["responses"]
    assert forecast["409"]["content"]["application/problem+json"]["schema"]["$ref"].endswith("/Problem")


def nulls(x: Any) -> bool:
    """Whether a JSON value holds a null anywhere."""
    if isinstance(x, dict):
        return any(nulls(v) for v in x.values())
    return any(nulls(v) for v in x) if isinstance(x, list) else x is None


def test_definitions_leave_out_what_they_do_not_give(api: Api, rt: Runtime) -> None:
    service.ensure_definitions(rt, "default")
    listed = api.get("/vitals/indicators").json()
    assert listed and not nulls(listed)
    derived = next(i for i in listed if "formula" in i)
    assert not {"source", "aggregation", "window"} & set(derived)
    one = api.get(f"/vitals/indicators/{derived['id']}").json()
    assert set(one) == {"definition", "history"} and not nulls(one["definition"])


def test_answers_keep_their_members(api: Api, rt: Runtime) -> None:
    service.ensure_definitions(rt, "default")
    now = int(time.time() * 1000)
    climb = [("bund_crowd_density", BUND, now - (90 - k) * MIN, 1.0 + 2.7 * k / 90, 0) for k in range(90)]
    climb[-2] = (*climb[-2][:3], None, 0)  # a value that could not be computed: kept as null
    rt.db.run_write(lambda conn: store.insert_values(conn, "default", climb))
    raised = LevelChange("bund_crowd_density", BUND, Change(0, 2, now - MIN, "raised"), 3.7)
    service.record(rt, "default", [IndicatorValue("bund_crowd_density", BUND, now, 3.7, None, 2)], [raised])

    history = api.get("/vitals/indicators/bund_crowd_density", params={"scope": BUND}).json()["history"]
    assert {frozenset(v) for v in history} == {frozenset({"scope", "at", "value", "level"})}
    assert [v["value"] for v in history].count(None) == 1

    [w] = api.get("/vitals/warnings").json()
    assert set(w) == WARNING and w["clearedAt"] is None and w["acknowledgedBy"] is None
    assert api.post(f"/vitals/warnings/{w['id']}/acknowledge").status_code == 200
    r = api.post(f"/vitals/warnings/{w['id']}/comments", json={"text": "已通知 informed"})
    assert r.status_code == 201 and set(r.json()) == WARNING | {"history"}
    raised_, acknowledged, commented = r.json()["history"]
    assert set(raised_) == EVENT and raised_["oldLevel"] == 0 and raised_["newLevel"] == 2
    assert set(acknowledged) == EVENT | {"actor"} and acknowledged["newLevel"] is None
    assert set(commented) == EVENT | {"actor", "text"} and commented["value"] is None

    places = api.get("/vitals/places").json()
    assert set(places) == {"district", "units", "grids", "streets"} and places["units"] == {BUND: 2}

    crowds = next(c for c in api.get("/vitals/overview").json()["categories"] if c["id"] == "crowds")
    assert set(crowds) == {"id", "nameZh", "nameEn", "indicators", "level"} and crowds["level"] == 2
    density = next(i for i in crowds["indicators"] if i["id"] == "bund_crowd_density")
    assert set(density) == {"id", "nameZh", "nameEn", "unit", "level", "groups"}
    [group] = density["groups"]
    assert set(group) == {"scope", "value", "at", "level", "trend", "sparkline"} and None in group["sparkline"]

    fc = api.get("/vitals/indicators/bund_crowd_density/forecast", params={"scope": BUND}).json()
    assert set(fc) == {"indicator", "scope", "method", "stepSeconds", "points", "preWarnings"}
    assert set(fc["points"][0]) == {"at", "mean", "lo80", "hi80", "lo95", "hi95"}
    assert fc["preWarnings"] and all(set(p) == LEVEL for p in fc["preWarnings"])
    service.refresh_prewarnings(rt, "default", service.catalogue(rt, "default"), "bund_crowd_density", BUND, now)
    listed = api.get("/vitals/prewarnings").json()
    assert listed and all(set(p) == LEVEL | {"indicator", "scope", "method", "issuedAt"} for p in listed)

    unknown = api.get("/vitals/indicators/pm25_grid/diagnosis", params={"scope": "urn:ngsi-ld:Grid:none"}).json()
    assert unknown == {"indicator": "pm25_grid", "scope": "urn:ngsi-ld:Grid:none", "verdict": "unknown",
                       "anomalous": False, "explanation": "no stored values yet", "sensors": []}  # fmt: skip
    scored = api.get("/vitals/indicators/bund_crowd_density/diagnosis", params={"scope": BUND}).json()
    assert {"value", "baseline", "z", "baselineStatus"} <= set(scored)
    # 90 minutes of values: too few points on the 15-minute grid to judge by, and the answer says so
    assert scored["verdict"] == "unknown" and scored["baselineStatus"] == "too-short" and scored["z"] is None
    assert set(scored["baselineReason"]) == {"zh", "en"}
