"""Expired attribute instances in q and in temporal aggregation, and expiresAt in a temporal create (NGSI-LD
v1.8, clause 4.22): a q filter (GET and POST queries, the temporal query, a subscription's q) and an
aggregation see exactly the instances a read shows; POST /temporal/entities stores the entity's expiresAt as
the core create does. Past times stand in for times that have passed, so that no test waits. On SQLite and
PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import Api

URL = "/ngsi-ld/v1/entities"
TEMPORAL = "/ngsi-ld/v1/temporal/entities"
PAST = "2020-01-01T00:00:00Z"
FUTURE = "2100-01-01T00:00:00Z"


def vehicle(n: int, **attrs: Any) -> dict[str, Any]:
    return {"id": f"urn:ngsi-ld:Vehicle:tq-{n}", "type": "Vehicle", **attrs}


def speed(value: Any, expires: str | None = None, dataset: str | None = None) -> dict[str, Any]:
    inst: dict[str, Any] = {"type": "Property", "value": value}
    if expires:
        inst["expiresAt"] = expires
    if dataset:
        inst["datasetId"] = dataset
    return inst


def ids(api: Api, **params: Any) -> list[str]:
    r = api.get(URL, params={"type": "Vehicle", **params})
    assert r.status_code == 200, r.text
    return sorted(e["id"].rsplit("-", 1)[1] for e in r.json())


@pytest.fixture
def fleet(api: Api) -> None:
    """1: its only speed expired; 2: a live speed; 3: an expired instance that matches beside a live one that
    does not; 4: its speed expires later; 5: a live default instance and an expired datasetId one."""
    bodies = [
        vehicle(1, speed=speed(9, PAST), name={"type": "Property", "value": "one"}),
        vehicle(2, speed=speed(9)),
        vehicle(3, speed=[speed(9, PAST, "urn:ngsi-ld:d:gps"), speed(1)]),
        vehicle(4, speed=speed(9, FUTURE)),
        vehicle(5, speed=[speed(2), speed(9, PAST, "urn:ngsi-ld:d:radar")]),
    ]
    for body in bodies:
        r = api.post(URL, json=body)
        assert r.status_code == 201, r.text


@pytest.mark.usefixtures("fleet")
@pytest.mark.parametrize(
    ("q", "matched"),
    [
        ("speed>5", ["2", "4"]),
        ("speed==9", ["2", "4"]),
        ("speed!=9", ["3", "5"]),  # 3 and 5: a live value other than 9; their expired 9 is not there
        ("speed==8..10", ["2", "4"]),
        ("speed", ["2", "3", "4", "5"]),  # 1's only instance expired: it has no speed
        ("!speed", ["1"]),
        ("speed.datasetId==urn:ngsi-ld:d:gps", []),
        ('speed<5|name=="one"', ["1", "3", "5"]),
    ],
)
def test_q_sees_the_instances_a_read_shows(api: Api, q: str, matched: list[str]) -> None:
    assert ids(api, q=q) == matched
    # the same q twice: the second use is bound to a kept template, with its own time
    assert ids(api, q=q) == matched
    posted = api.post(f"{URL.rsplit('/', 1)[0]}/entityOperations/query", json={
        "type": "Query", "entities": [{"type": "Vehicle"}], "q": q,
    })  # fmt: skip
    assert posted.status_code == 200, posted.text
    assert sorted(e["id"].rsplit("-", 1)[1] for e in posted.json()) == matched


@pytest.mark.usefixtures("fleet")
def test_q_and_the_read_agree_on_every_entity(api: Api) -> None:
    """Each entity q=speed>5 selects shows a speed above 5 when read, and none it leaves out does."""
    selected = ids(api, q="speed>5")
    for e in api.get(URL, params={"type": "Vehicle"}).json():
        shown = e.get("speed", [])
        values = [i["value"] for i in (shown if isinstance(shown, list) else [shown])]
        assert (e["id"].rsplit("-", 1)[1] in selected) == any(v > 5 for v in values), (e["id"], values)


@pytest.mark.usefixtures("fleet")
def test_a_count_and_the_temporal_query_leave_out_expired_instances_too(api: Api) -> None:
    r = api.get(URL, params={"type": "Vehicle", "q": "speed>5", "count": "true", "limit": 0})
    assert r.status_code == 200 and r.headers["NGSILD-Results-Count"] == "2", r.text
    t = api.get(TEMPORAL, params={"type": "Vehicle", "q": "speed>5", "timerel": "after", "timeAt": PAST})
    assert t.status_code == 200, t.text
    assert sorted(e["id"].rsplit("-", 1)[1] for e in t.json()) == ["2", "4"]


def test_an_expired_instance_does_not_count_in_an_aggregation(api: Api) -> None:
    eid = "urn:ngsi-ld:Vehicle:agg"
    instances = [
        {"type": "Property", "value": 10, "observedAt": "2026-01-01T00:00:00Z"},
        {"type": "Property", "value": 20, "observedAt": "2026-01-01T00:10:00Z"},
        {"type": "Property", "value": 90, "observedAt": "2026-01-01T00:20:00Z", "expiresAt": PAST},
    ]
    r = api.post(TEMPORAL, json={"id": eid, "type": "Vehicle", "speed": instances})
    assert r.status_code == 201, r.text
    read = api.get(f"{TEMPORAL}/{eid}", params={"options": "temporalValues"}).json()
    assert [v[0] for v in read["speed"]["values"]] == [10, 20]
    params = {"options": "aggregatedValues", "aggrMethods": "totalCount,sum,max,avg,distinctCount"}
    agg = api.get(f"{TEMPORAL}/{eid}", params=params)
    assert agg.status_code == 200, agg.text
    speed_ = agg.json()["speed"]
    assert [b[0] for b in speed_["totalCount"]] == [2]
    assert [b[0] for b in speed_["sum"]] == [30]
    assert [b[0] for b in speed_["max"]] == [20]
    assert [b[0] for b in speed_["distinctCount"]] == [2]
    # periods are counted from the first instance aggregated: the expired one, first in time, is not it
    instances[2]["observedAt"] = "2025-12-31T23:00:00Z"
    other = "urn:ngsi-ld:Vehicle:agg-2"
    assert api.post(TEMPORAL, json={"id": other, "type": "Vehicle", "speed": instances}).status_code == 201
    periods = api.get(f"{TEMPORAL}/{other}", params={**params, "aggrMethods": "sum", "aggrPeriodDuration": "PT10M"})
    assert periods.status_code == 200, periods.text
    assert periods.json()["speed"]["sum"] == [
        [10, "2026-01-01T00:00:00Z", "2026-01-01T00:10:00Z"],
        [20, "2026-01-01T00:10:00Z", "2026-01-01T00:20:00Z"],
    ]


def test_a_temporal_create_stores_the_entitys_expires_at(api: Api) -> None:
    eid = "urn:ngsi-ld:Vehicle:tc-1"
    body = {"id": eid, "type": "Vehicle", "expiresAt": FUTURE, "speed": [speed(3) | {"observedAt": PAST}]}
    assert api.post(TEMPORAL, json=body).status_code == 201
    entity = api.get(f"{URL}/{eid}", params={"options": "sysAttrs"}).json()
    assert entity["expiresAt"] == FUTURE
    assert "expiresAt" not in api.get(f"{URL}/{eid}").text  # a system attribute: with sysAttrs only
    # a second POST updates the temporal representation: an expiresAt given moves the entity's, one left out
    # keeps it (as Update Entity Attributes and Merge Entity do, clause 5.6.3/5.6.17)
    later = "2099-06-01T00:00:00Z"
    assert api.post(TEMPORAL, json={**body, "expiresAt": later}).status_code == 204
    assert api.get(f"{URL}/{eid}", params={"options": "sysAttrs"}).json()["expiresAt"] == later
    assert api.post(TEMPORAL, json={k: v for k, v in body.items() if k != "expiresAt"}).status_code == 204
    assert api.get(f"{URL}/{eid}", params={"options": "sysAttrs"}).json()["expiresAt"] == later


def test_a_temporal_create_with_a_passed_expires_at_makes_an_entity_no_read_serves(api: Api) -> None:
    eid = "urn:ngsi-ld:Vehicle:tc-2"
    body = {"id": eid, "type": "Vehicle", "expiresAt": PAST, "speed": [speed(3) | {"observedAt": PAST}]}
    assert api.post(TEMPORAL, json=body).status_code == 201
    assert api.get(f"{URL}/{eid}").status_code == 404
    assert eid not in api.get(URL, params={"type": "Vehicle"}).text
    t = api.get(TEMPORAL, params={"type": "Vehicle", "timerel": "after", "timeAt": "2019-01-01T00:00:00Z"})
    assert t.status_code == 200 and eid not in t.text, t.text
    # its id is free for a create, the core one as the temporal one (an expired entity is reaped by it)
    assert api.post(TEMPORAL, json={**body, "expiresAt": FUTURE}).status_code == 201
    assert api.get(f"{URL}/{eid}", params={"options": "sysAttrs"}).json()["expiresAt"] == FUTURE


@pytest.mark.parametrize("bad", ["tomorrow", 5])
def test_a_temporal_create_refuses_a_malformed_expires_at(api: Api, bad: Any) -> None:
    r = api.post(TEMPORAL, json={"id": "urn:ngsi-ld:Vehicle:tc-3", "type": "Vehicle", "expiresAt": bad})
    assert r.status_code == 400 and r.json()["type"].endswith("/BadRequestData"), r.text
    assert api.get(f"{URL}/urn:ngsi-ld:Vehicle:tc-3").status_code == 404


def test_a_geo_query_leaves_out_an_expired_location(api: Api) -> None:
    def at(lon: float, lat: float, expires: str | None = None) -> dict[str, Any]:
        loc: dict[str, Any] = {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [lon, lat]}}
        return loc | ({"expiresAt": expires} if expires else {})

    for body in (vehicle(1, location=at(121.49, 31.24, PAST)), vehicle(2, location=at(121.49, 31.24, FUTURE))):
        assert api.post(URL, json=body).status_code == 201
    near = {"georel": "near;maxDistance==1000", "geometry": "Point", "coordinates": "[121.49,31.24]"}
    assert ids(api, **near) == ["2"]
    assert ids(api, **near, orderBy="id") == ["2"]
