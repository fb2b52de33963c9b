"""The NGSI-LD temporal API over the attribute history, on SQLite and PostgreSQL."""

from __future__ import annotations

import statistics
from datetime import UTC, datetime, timedelta

import pytest
from conftest import Api, wait_for

from cityos.core.timefmt import parse_ts

T0 = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)
EID = "urn:ngsi-ld:AirQualityObserved:t1"
TEMPORAL = f"/ngsi-ld/v1/temporal/entities/{EID}"


def stamp(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def shown(dt: datetime) -> str:
    """A time as the API shows it: milliseconds only when there are some (the readings have none)."""
    ms = dt.microsecond // 1000
    return dt.strftime("%Y-%m-%dT%H:%M:%S") + (f".{ms:03d}Z" if ms else "Z")


READINGS = [(T0 + timedelta(minutes=10 * k), 10 + (k * 7) % 23) for k in range(13)]  # 08:00 .. 10:00


@pytest.fixture
def station(api: Api) -> Api:
    (t, v), rest = READINGS[0], READINGS[1:]
    entity = {
        "id": EID,
        "type": "AirQualityObserved",
        "pm25": {"type": "Property", "value": v, "observedAt": stamp(t), "unitCode": "GQ"},
        "refGrid": {"type": "Relationship", "object": "urn:ngsi-ld:Grid:HP-WT-01"},
    }
    assert api.post("/ngsi-ld/v1/entities", json=entity).status_code == 201
    for t, v in rest:
        r = api.patch(f"/ngsi-ld/v1/entities/{EID}/attrs/pm25", json={"value": v, "observedAt": stamp(t)})
        assert r.status_code == 204
    return api


def test_retrieve_history_in_time_order(station: Api) -> None:
    body = station.get(TEMPORAL, params={"attrs": "pm25"}).json()
    assert body["id"] == EID and body["type"] == "AirQualityObserved"
    got = [(i["observedAt"], i["value"]) for i in body["pm25"]]
    assert got == [(shown(t), v) for t, v in READINGS]
    assert all(
        i["unitCode"] == "GQ" and i["instanceId"].startswith("urn:ngsi-ld:attribute:instance:") for i in body["pm25"]
    )
    assert len({i["instanceId"] for i in body["pm25"]}) == len(READINGS)


def test_time_relations_and_last_n(station: Api) -> None:
    def values(**params: str) -> list[int]:
        return [i["value"] for i in station.get(TEMPORAL, params={"attrs": "pm25", **params}).json()["pm25"]]

    at, end = stamp(T0 + timedelta(minutes=30)), stamp(T0 + timedelta(minutes=60))
    assert values(timerel="between", timeAt=at, endTimeAt=end) == [
        v for t, v in READINGS if T0 + timedelta(minutes=30) <= t < T0 + timedelta(minutes=60)
    ]
    assert values(timerel="before", timeAt=at) == [v for t, v in READINGS if t < T0 + timedelta(minutes=30)]
    # after is an inclusive bound (NGSI-LD v1.8 clause 4.11), before an exclusive one
    assert values(timerel="after", timeAt=at) == [v for t, v in READINGS if t >= T0 + timedelta(minutes=30)]
    assert values(lastN="3") == [v for _, v in READINGS[-3:]]
    tv = station.get(TEMPORAL, params={"attrs": "pm25", "options": "temporalValues", "lastN": "2"}).json()
    assert tv["pm25"] == {"type": "Property", "values": [[v, shown(t)] for t, v in READINGS[-2:]]}


def test_hourly_aggregates_match_an_independent_computation(station: Api) -> None:
    methods = "totalCount,distinctCount,sum,avg,min,max,stddev,sumsq"
    params = {
        "attrs": "pm25",
        "options": "aggregatedValues",
        "aggrMethods": methods,
        "aggrPeriodDuration": "PT1H",
        "timerel": "between",
        "timeAt": stamp(T0),
        "endTimeAt": stamp(T0 + timedelta(hours=3)),
    }
    body = station.get(TEMPORAL, params=params).json()["pm25"]
    assert body["type"] == "Property"
    for hour in range(3):
        start = T0 + timedelta(hours=hour)
        vals = [v for t, v in READINGS if start <= t < start + timedelta(hours=1)]
        expected = {
            "totalCount": len(vals),
            "distinctCount": len(set(vals)),
            "sum": sum(vals),
            "avg": statistics.fmean(vals),
            "min": min(vals),
            "max": max(vals),
            "stddev": statistics.pstdev(vals),
            "sumsq": sum(v * v for v in vals),
        }
        for method, value in expected.items():
            got, s, e = body[method][hour]
            assert (s, e) == (shown(start), shown(start + timedelta(hours=1)))
            assert got == pytest.approx(value), method


def test_temporal_query_by_type(station: Api) -> None:
    r = station.get(
        "/ngsi-ld/v1/temporal/entities",
        params={"type": "AirQualityObserved", "attrs": "pm25", "lastN": "1", "count": "true"},
    )
    assert r.status_code == 200 and r.headers["NGSILD-Results-Count"] == "1"
    assert [(e["id"], e["pm25"][0]["value"]) for e in r.json()] == [(EID, READINGS[-1][1])]


def a_later_millisecond(than: datetime) -> datetime:
    """The clock once it shows a later millisecond than ``than`` (stored times have milliseconds)."""
    return wait_for(lambda: now if stamp(now := datetime.now(UTC)) > stamp(than) else None)  # type: ignore[no-any-return]


def test_timeproperty_modified_at_selects_by_when_instances_were_stored(station: Api) -> None:
    between_writes = a_later_millisecond(datetime.now(UTC))  # later than every instance stored so far
    a_later_millisecond(between_writes)  # and earlier than the next one
    backfill = T0 - timedelta(hours=1)  # observed before all others, stored after them
    r = station.post(
        f"{TEMPORAL}/attrs", json={"pm25": [{"type": "Property", "value": 99, "observedAt": stamp(backfill)}]}
    )
    assert r.status_code == 204, r.text

    def history(**params: str) -> list[dict]:
        r = station.get(TEMPORAL, params={"attrs": "pm25", "timeproperty": "modifiedAt", **params})
        assert r.status_code == 200, r.text
        return r.json()["pm25"]

    late = history(timerel="after", timeAt=stamp(between_writes))
    assert [(i["value"], i["observedAt"]) for i in late] == [(99, shown(backfill))]
    assert parse_ts(late[0]["modifiedAt"]) > parse_ts(stamp(between_writes))
    early = history(timerel="before", timeAt=stamp(between_writes))
    assert sorted(i["observedAt"] for i in early) == [shown(t) for t, _ in READINGS]
    assert all(parse_ts(i["modifiedAt"]) < parse_ts(stamp(between_writes)) for i in early)
    # by observedAt the backfilled instance comes first; by modifiedAt it is the last one stored
    assert history(lastN="1")[0]["value"] == 99
    default = station.get(TEMPORAL, params={"attrs": "pm25"}).json()["pm25"]
    assert default[0]["value"] == 99
    assert {i["instanceId"] for i in default} == {i["instanceId"] for i in history()}
    tv = station.get(
        TEMPORAL, params={"attrs": "pm25", "timeproperty": "createdAt", "options": "temporalValues", "lastN": "1"}
    ).json()["pm25"]
    assert tv["values"] == [[99, late[0]["modifiedAt"]]]


@pytest.mark.parametrize(
    "params",
    [
        {"timerel": "between", "timeAt": "2026-11-21T08:00:00Z"},
        {"timerel": "during", "timeAt": "2026-11-21T08:00:00Z"},
        {"timerel": "before"},
        {"timerel": "between", "timeAt": "2026-11-21T09:00:00Z", "endTimeAt": "2026-11-21T08:00:00Z"},
        {"timerel": "after", "timeAt": "yesterday"},
        {"timeAt": "2026-11-21T08:00:00Z"},
        {"lastN": "0"},
        {"options": "aggregatedValues"},
        {"options": "aggregatedValues", "aggrMethods": "median"},
        {"options": "aggregatedValues", "aggrMethods": "avg", "aggrPeriodDuration": "P1M"},
        {"options": "aggregatedValues", "aggrMethods": "avg", "aggrPeriodDuration": "an hour"},
        {"timeproperty": "expiresAt"},
        {"timeproperty": "modifiedAt", "options": "aggregatedValues", "aggrMethods": "avg"},
    ],
)
def test_bad_temporal_parameters_are_400(station: Api, params: dict[str, str]) -> None:
    r = station.get(TEMPORAL, params=params)
    assert r.status_code == 400, r.text
    assert r.json()["detail"]


def test_temporal_provision_create_append_modify_delete(api: Api) -> None:
    base = "/ngsi-ld/v1/temporal/entities"
    eid = "urn:ngsi-ld:NoiseLevelObserved:n1"
    series = [{"type": "Property", "value": 60 + k, "observedAt": stamp(T0 + timedelta(minutes=k))} for k in range(3)]
    r = api.post(base, json={"id": eid, "type": "NoiseLevelObserved", "LAeq": series})
    assert r.status_code == 201, r.text
    # the newest instance became the current state; all three are history
    assert api.get(f"/ngsi-ld/v1/entities/{eid}").json()["LAeq"]["value"] == 62
    hist = api.get(f"{base}/{eid}").json()["LAeq"]
    assert [i["value"] for i in hist] == [60, 61, 62]

    older = {"LAeq": [{"type": "Property", "value": 55, "observedAt": stamp(T0 - timedelta(minutes=5))}]}
    assert api.post(f"{base}/{eid}/attrs", json=older).status_code == 204
    assert api.get(f"/ngsi-ld/v1/entities/{eid}").json()["LAeq"]["value"] == 62  # an older instance is history only
    assert (
        api.post(
            base,
            json={
                "id": eid,
                "type": "NoiseLevelObserved",
                "LAeq": [{"type": "Property", "value": 70, "observedAt": stamp(T0 + timedelta(minutes=9))}],
            },
        ).status_code
        == 204
    )
    assert api.get(f"/ngsi-ld/v1/entities/{eid}").json()["LAeq"]["value"] == 70
    hist = api.get(f"{base}/{eid}").json()["LAeq"]
    assert [i["value"] for i in hist] == [55, 60, 61, 62, 70]

    first = hist[1]["instanceId"]
    assert api.patch(f"{base}/{eid}/attrs/LAeq/{first}", json={"value": 59}).status_code == 204
    assert [i["value"] for i in api.get(f"{base}/{eid}").json()["LAeq"]] == [55, 59, 61, 62, 70]
    assert api.delete(f"{base}/{eid}/attrs/LAeq/{first}").status_code == 204
    assert api.delete(f"{base}/{eid}/attrs/LAeq/{first}").status_code == 404
    assert (
        api.patch(f"{base}/{eid}/attrs/LAeq/urn:ngsi-ld:attribute:instance:nope", json={"value": 1}).status_code == 404
    )
    assert [i["value"] for i in api.get(f"{base}/{eid}").json()["LAeq"]] == [55, 61, 62, 70]

    q = api.post(
        "/ngsi-ld/v1/temporal/entityOperations/query",
        params={"lastN": "1"},
        json={
            "type": "Query",
            "entities": [{"type": "NoiseLevelObserved"}],
            "attrs": ["LAeq"],
            "temporalQ": {"timerel": "before", "timeAt": stamp(T0 + timedelta(minutes=5))},
        },
    )
    assert q.status_code == 200, q.text
    assert [i["value"] for i in q.json()[0]["LAeq"]] == [62]

    assert api.delete(f"{base}/{eid}/attrs/LAeq").status_code == 204
    assert api.get(f"{base}/{eid}").json().get("LAeq") is None
    # the temporal representation is the entity over time: deleting it deletes the entity (clause 5.6.16)
    assert api.delete(f"{base}/{eid}").status_code == 204
    assert api.get(f"/ngsi-ld/v1/entities/{eid}").status_code == 404
    assert api.get(f"{base}/{eid}").status_code == 404
    assert api.delete(f"{base}/{eid}").status_code == 404  # nothing left to delete


def test_temporal_provision_bad_input(api: Api) -> None:
    base = "/ngsi-ld/v1/temporal/entities"
    assert api.post(base, json={"type": "X", "a": []}).status_code == 400
    assert api.post(base, json={"id": "urn:ngsi-ld:X:1", "type": "X", "a": []}).status_code == 400
    assert (
        api.post(
            base,
            json={"id": "urn:ngsi-ld:X:1", "type": "X", "a": [{"type": "Property", "value": 1, "observedAt": "soon"}]},
        ).status_code
        == 400
    )
    assert (
        api.post(f"{base}/urn:ngsi-ld:X:none/attrs", json={"a": [{"type": "Property", "value": 1}]}).status_code == 404
    )


@pytest.mark.settings(temporal_max_instances=5)
def test_long_histories_come_in_pages_that_chain(station: Api) -> None:
    seen: dict[str, int] = {}  # by instanceId: timerel=after is inclusive, so a page repeats the last one's end
    params = {"attrs": "pm25"}
    statuses = []
    for _ in range(5):
        r = station.get(TEMPORAL, params=params)
        statuses.append(r.status_code)
        seen |= {i["instanceId"]: i["value"] for i in r.json().get("pm25", [])}
        if r.status_code == 200:
            break
        first, last = r.headers["Content-Range"].removeprefix("date-time ").removesuffix("/*").split("Z-")
        assert first + "Z" <= last
        params = {"attrs": "pm25", "timerel": "after", "timeAt": last}
    assert statuses == [206, 206, 200]
    assert list(seen.values()) == [v for _, v in READINGS]
