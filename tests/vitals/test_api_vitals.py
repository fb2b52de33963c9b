"""The vitals API on SQLite and PostgreSQL: definitions, live warnings from entity updates, the overview."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from conftest import Api, wait_for

from cityos.core.timefmt import format_ts

SQUARE = "urn:ngsi-ld:ManagementUnit:test-square"
GRID = "urn:ngsi-ld:Grid:test-grid"
STREET = "urn:ngsi-ld:Street:test-street"
COUNTER = "urn:ngsi-ld:CrowdFlowObserved:test-gate-1"
LD = {"Content-Type": "application/ld+json"}
PEAK: dict[str, Any] = {
    "name": {"zh": "测试广场峰值客流", "en": "Peak count at the test square"},
    "category": "crowds",
    "unit": "persons",
    "source": {"entityType": "CrowdFlowObserved", "attr": "peopleCount"},
    "aggregation": "max",
    "window": {"kind": "sliding", "duration": "1s"},
    "scope": {"level": "unit", "ids": [SQUARE]},
    "thresholds": {"blue": 100, "yellow": 200, "orange": 300, "red": 400},
}
CTX = ["https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld"]


def count(api: Api, n: int, at: datetime) -> None:
    body = {"peopleCount": {"type": "Property", "value": n, "observedAt": format_ts(at)}, "@context": CTX}
    r = api.post(f"/ngsi-ld/v1/entities/{COUNTER}/attrs", json=body, headers=LD)
    assert r.status_code == 204, r.text


def warnings(api: Api, **params: Any) -> list[dict[str, Any]]:
    r = api.get("/vitals/warnings", params={"indicator": "test_square_peak", **params})
    assert r.status_code == 200, r.text
    return r.json()


def test_definitions_are_listed_versioned_and_checked(api: Api) -> None:
    shipped = api.get("/vitals/indicators").json()
    assert len(shipped) >= 30 and {"bund_crowd_density"} <= {i["id"] for i in shipped}
    r = api.put("/vitals/indicators/test_square_peak", json=PEAK)
    assert r.status_code == 200 and r.json()["version"] == 1
    r = api.put("/vitals/indicators/test_square_peak", json={**PEAK, "unit": "people"})
    assert r.json()["version"] == 2
    bad = api.put("/vitals/indicators/test_square_peak", json={**PEAK, "aggregation": "median"})
    assert bad.status_code == 422
    assert bad.json()["type"].endswith("invalid-indicator-definition") and "aggregation" in bad.json()["detail"]
    unknown = api.put("/vitals/indicators/test_ratio", json={**PEAK, "formula": "nobody / 2", "source": None})
    assert unknown.status_code == 422
    assert api.get("/vitals/indicators/test_square_peak").json()["definition"]["unit"] == "people"
    assert api.get("/vitals/indicators/nothing_here").status_code == 404


def test_a_crowd_raises_escalates_and_clears_a_warning_that_can_be_acknowledged(api: Api) -> None:
    assert api.put("/vitals/indicators/test_square_peak", json=PEAK).status_code == 200
    entity = {
        "id": COUNTER,
        "type": "CrowdFlowObserved",
        "refUnit": {"type": "Relationship", "object": SQUARE},
        "@context": CTX,
    }
    assert api.post("/ngsi-ld/v1/entities", json=entity, headers=LD).status_code == 201
    # The runner moves its sliding windows on with the clock every second, so the counts are stamped from now
    # on, not in the past: a count older than the 1 s window when a tick has passed would be out of it at once.
    # The later ones are ahead of the clock, so no tick drops them before the test reads what they made.
    t = datetime.now(UTC)
    for place in (
        {"id": SQUARE, "type": "ManagementUnit", "refGrid": {"type": "Relationship", "object": GRID},
         "refStreet": {"type": "Relationship", "object": STREET}},
        {"id": GRID, "type": "Grid", "refStreet": {"type": "Relationship", "object": STREET}},
    ):  # fmt: skip
        assert api.post("/ngsi-ld/v1/entities", json={**place, "@context": CTX}, headers=LD).status_code == 201
    count(api, 0, t - timedelta(seconds=2))  # the window has seen a whole second before the crowd: it is full
    count(api, 150, t)
    [w] = wait_for(lambda: warnings(api))
    assert (w["level"], w["levelName"], w["levelZh"], w["grade"]) == (1, "blue", "蓝", "IV")
    count(api, 450, t + timedelta(seconds=5))
    wait_for(lambda: warnings(api)[0]["level"] == 4)
    places = api.get("/vitals/places").json()  # the unit's warning shows on its grid, street and district
    assert places["units"][SQUARE] == places["grids"][GRID] == places["streets"][STREET] == 4
    assert places["district"] == 4
    r = api.post(f"/vitals/warnings/{w['id']}/acknowledge")
    assert r.status_code == 200 and r.json()["acknowledgedBy"] == "test-admin" and r.json()["acknowledgedAt"]
    r = api.post(f"/vitals/warnings/{w['id']}/comments", json={"text": "已通知外滩派出所 police informed"})
    assert r.status_code == 201
    count(api, 50, t + timedelta(seconds=60))
    wait_for(lambda: warnings(api) == [])
    assert api.get("/vitals/places").json()["grids"].get(GRID, 0) == 0
    done = api.get(f"/vitals/warnings/{w['id']}").json()
    assert not done["active"] and done["clearedAt"] and done["peakLevel"] == 4
    assert [h["kind"] for h in done["history"]] == ["raised", "escalated", "acknowledged", "comment", "cleared"]
    overview = api.get("/vitals/overview").json()
    crowds = next(c for c in overview["categories"] if c["id"] == "crowds")
    peak = next(i for i in crowds["indicators"] if i["id"] == "test_square_peak")
    assert peak["groups"][0]["scope"] == SQUARE and peak["groups"][0]["value"] == 50
    assert api.get("/vitals/warnings/not-a-warning").status_code == 404
    # the indicator's values are NGSI-LD entities too (Smart Data Model KeyPerformanceIndicator)
    kpi_id = "urn:ngsi-ld:KeyPerformanceIndicator:test_square_peak:ManagementUnit:test-square"
    kpi = wait_for(lambda: _entity(api, kpi_id))
    assert kpi["type"] == "KeyPerformanceIndicator" and kpi["refScope"]["object"] == SQUARE
    assert kpi["kpiValue"]["unitText"]["value"] == "persons" and kpi["kpiValue"]["observedAt"]
    assert kpi["alternateName"]["value"] == "测试广场峰值客流"
    listed = api.get("/ngsi-ld/v1/entities", params={"type": "KeyPerformanceIndicator", "q": "warningLevel>=0"})
    assert kpi_id in {e["id"] for e in listed.json()}


def _entity(api: Api, entity_id: str) -> dict[str, Any] | None:
    r = api.get(f"/ngsi-ld/v1/entities/{entity_id}")
    return r.json() if r.status_code == 200 else None


def test_vitals_need_a_token(api: Api) -> None:
    r = api.client.get("/vitals/overview")
    assert r.status_code == 401
