"""The temporal API as NGSI-LD v1.8 words it, where the ETSI conformance suite found cityos apart from it:
paging with lastN, time bounds, aggregation periods, deletions in the history (timeproperty=deletedAt),
datasetId, representations and the errors of a retrieve. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from conftest import Api

from cityos.core.timefmt import parse_ts

BASE = "/ngsi-ld/v1/temporal/entities"
EID = "urn:ngsi-ld:Vehicle:tc1"
NULL = "urn:ngsi-ld:null"


def at(minute: int, hour: int = 12) -> str:
    return f"2020-08-01T{hour:02d}:{minute:02d}:00Z"


def instances(values: list[tuple[Any, str]], **extra: Any) -> list[dict[str, Any]]:
    return [{"type": "Property", "value": v, "observedAt": t, **extra} for v, t in values]


def create(api: Api, eid: str = EID, **attrs: Any) -> None:
    r = api.post(BASE, json={"id": eid, "type": "Vehicle", **attrs})
    assert r.status_code == 201, r.text


def content_range(r: Any) -> tuple[datetime, datetime, str]:
    unit, _, rest = r.headers["Content-Range"].partition(" ")
    assert unit == "date-time"
    span, _, size = rest.partition("/")
    start, end = span.split("Z-")
    return parse_ts(start + "Z"), parse_ts(end), size


def when(stamp: str) -> datetime:
    return parse_ts(stamp)


SPEED = [(k, at(k)) for k in range(8)]  # 12:00 .. 12:07, one a minute


@pytest.mark.settings(temporal_max_instances=5)
def test_last_n_beyond_a_page_is_partial_going_back_in_time(api: Api) -> None:
    create(api, speed=instances(SPEED))
    r = api.get(f"{BASE}/{EID}", params={"lastN": "8"})
    assert r.status_code == 206, r.text  # not refused: the answer is a page of the 8 asked for
    assert [i["value"] for i in r.json()["speed"]] == [3, 4, 5, 6, 7]
    assert content_range(r) == (when(at(7)), when(at(3)), "8")  # from the most recent back to where the page stops

    # before is an exclusive bound: going on from the page's end misses nothing and repeats nothing
    r = api.get(f"{BASE}/{EID}", params={"lastN": "8", "timerel": "before", "timeAt": at(3)})
    assert r.status_code == 200
    assert [i["value"] for i in r.json()["speed"]] == [0, 1, 2]

    # with a range's end, the page starts there
    r = api.get(f"{BASE}/{EID}", params={"lastN": "6", "timerel": "before", "timeAt": at(30)})
    assert r.status_code == 206
    assert content_range(r) == (when(at(30)), when(at(3)), "6")
    # a lastN the page holds is a whole answer
    r = api.get(f"{BASE}/{EID}", params={"lastN": "2"})
    assert r.status_code == 200 and [i["value"] for i in r.json()["speed"]] == [6, 7]


@pytest.mark.settings(temporal_max_instances=5)
def test_after_is_an_inclusive_bound_and_a_page_starts_at_time_at(api: Api) -> None:
    create(api, speed=instances(SPEED))
    r = api.get(f"{BASE}/{EID}", params={"timerel": "after", "timeAt": at(2)})
    assert r.status_code == 206
    assert [i["value"] for i in r.json()["speed"]] == [2, 3, 4, 5, 6]
    assert content_range(r) == (when(at(2)), when(at(6)), "*")
    r = api.get(f"{BASE}/{EID}", params={"timerel": "after", "timeAt": "2020-08-01T12:05:00.000Z"})
    assert [i["value"] for i in r.json()["speed"]] == [5, 6, 7]
    assert api.get(f"{BASE}/{EID}", params={"timerel": "after", "timeAt": "2020-08-01"}).status_code == 400


def test_aggregation_periods_start_at_the_first_instance(api: Api) -> None:
    create(api, fuelLevel=instances([(67, at(3)), (53, at(5, 13)), (40, at(7, 14))]))
    for params in ({}, {"timerel": "after", "timeAt": "2020-01-01T12:03:00Z"}):
        r = api.get(
            f"{BASE}/{EID}",
            params={"options": "aggregatedValues", "aggrMethods": "avg", "aggrPeriodDuration": "PT1H", **params},
        )
        assert r.status_code == 200, r.text
        assert r.json()["fuelLevel"]["avg"] == [
            [67, at(3), at(3, 13)],
            [53, at(3, 13), at(3, 14)],
            [40, at(3, 14), at(3, 15)],
        ]
    r = api.get(f"{BASE}/{EID}", params={"options": "aggregatedValues", "aggrMethods": "max,min"})
    assert r.json()["fuelLevel"]["max"][0][0] == 67  # no period (PT0S): one over the whole history


def test_a_deleted_attribute_stays_in_the_history_read_by_deleted_at(api: Api) -> None:
    name = [{"type": "LanguageProperty", "languageMap": {"en": "My car"}, "observedAt": at(1)}]
    create(api, speed=instances(SPEED[:2]), name=name, scope=["/Madrid/Gardens"])
    for attr in ("speed", "name", "scope"):
        assert api.delete(f"/ngsi-ld/v1/entities/{EID}/attrs/{attr}").status_code == 204
    body = api.get(f"{BASE}/{EID}", params={"timeproperty": "deletedAt"}).json()
    assert set(body) == {"id", "type", "speed", "name", "scope"}  # only what was deleted
    (speed,) = body["speed"]
    assert speed["value"] == NULL and speed["deletedAt"] and "observedAt" not in speed
    assert body["name"][0]["languageMap"] == {"@none": NULL}
    assert body["scope"][0]["value"] == []
    simple = api.get(f"{BASE}/{EID}", params={"timeproperty": "deletedAt", "options": "temporalValues"}).json()
    assert simple["speed"]["values"] == [[NULL, speed["deletedAt"]]]
    assert simple["name"]["languageMaps"][0][0] == {"languageMap": {"@none": NULL}}
    # the observed history keeps its instances, the deletion last, with no observation time of its own
    observed = api.get(f"{BASE}/{EID}", params={"attrs": "speed"}).json()["speed"]
    assert [i["value"] for i in observed] == [0, 1, NULL] and "deletedAt" in observed[-1]


def test_dataset_ids_and_queries_with_nothing_in_the_range(api: Api) -> None:
    fuel = [
        *instances([(67, at(3))]),
        *instances([(53, at(5))], datasetId="urn:ngsi-ld:Dataset:Common"),
        *instances([(40, at(7))], datasetId="urn:ngsi-ld:Dataset:fuel"),
    ]
    create(api, fuelLevel=fuel)
    create(api, "urn:ngsi-ld:Vehicle:tc2", fuelLevel=instances([(10, "2020-09-01T12:00:00Z")]))
    query = {"type": "Vehicle", "timerel": "before", "timeAt": at(30), "options": "temporalValues"}
    got = api.get(BASE, params={**query, "datasetId": "urn:ngsi-ld:Dataset:Common"}).json()
    assert [e["id"] for e in got] == [EID]  # tc2 has nothing before 12:30: it is left out
    assert got[0]["fuelLevel"] == {
        "type": "Property",
        "datasetId": "urn:ngsi-ld:Dataset:Common",
        "values": [[53, at(5)]],
    }
    got = api.get(BASE, params={**query, "datasetId": "@none"}).json()
    assert got[0]["fuelLevel"] == {"type": "Property", "values": [[67, at(3)]]}
    assert api.get(BASE, params={**query, "datasetId": "urn:ngsi-ld:Dataset:none"}).json() == []
    # format names the temporal representation too, before options
    both = api.get(BASE, params={**query, "format": "temporalValues", "options": "aggregatedValues"})
    assert both.status_code == 200 and "values" in both.json()[0]["fuelLevel"][0]
    assert len(api.get(BASE, params={"local": "true"}).json()) == 2


def test_simplified_values_of_language_json_and_vocab_properties(api: Api) -> None:
    create(
        api,
        street=[{"type": "LanguageProperty", "languageMap": {"fr": "Grand Place"}, "observedAt": at(1)}],
        data=[{"type": "JsonProperty", "json": {"value": 80}, "observedAt": at(1)}],
        kind=[{"type": "VocabProperty", "vocab": "monument", "observedAt": at(1)}],
    )
    body = api.get(f"{BASE}/{EID}", params={"options": "temporalValues"}).json()
    assert body["street"]["languageMaps"] == [[{"languageMap": {"fr": "Grand Place"}}, at(1)]]
    assert body["data"]["jsons"] == [[{"json": {"value": 80}}, at(1)]]
    assert body["kind"]["vocabs"] == [[{"vocab": "monument"}, at(1)]]


def test_temporal_query_body_carries_last_n_and_aggregation(api: Api) -> None:
    create(api, speed=instances(SPEED[:3]))
    url = "/ngsi-ld/v1/temporal/entityOperations/query"
    window = {"timerel": "after", "timeAt": at(0)}

    def query(temporal_q: dict[str, Any], **more: Any) -> Any:
        body = {"type": "Query", "entities": [{"type": "Vehicle"}], "temporalQ": {**window, **temporal_q}, **more}
        return api.post(url, json=body)

    assert [i["value"] for i in query({"lastN": 1}).json()[0]["speed"]] == [2]
    for bad in (0, 2.5, "1"):
        r = query({"lastN": bad})
        assert r.status_code == 400 and r.json()["type"].endswith("BadRequestData")
    for methods in (["avg"], "avg,max"):
        assert query({"aggrMethods": methods}).json()[0]["speed"]["avg"][0][0] == 1
    r = query({}, aggrParams={"aggrMethods": ["sum"], "aggrPeriodDuration": "PT0S"})
    assert r.json()[0]["speed"]["sum"][0][0] == 3
    assert query({}, aggrParams={"aggrMethods": ["bogus"]}).status_code == 400
    assert query({"aggrMethods": ["avg"], "aggrPeriodDuration": "bogus"}).status_code == 400


def test_retrieve_finds_nothing_and_bad_names(api: Api) -> None:
    create(api, speed=instances(SPEED[:2]))
    for params in ({"attrs": "unknownAttribute"}, {"pick": "unknown"}, {"omit": "id,type,speed"}):
        r = api.get(f"{BASE}/{EID}", params=params)
        assert r.status_code == 404, params
        assert r.json()["type"].endswith("ResourceNotFound")
    assert api.get(f"{BASE}/{EID}", params={"attrs": "speed", "timerel": "after", "timeAt": at(50)}).status_code == 200
    assert api.delete(f"{BASE}/{EID}/attrs/speed/invalidId").status_code == 400
    assert api.patch(f"{BASE}/{EID}/attrs/speed/invalidId", json={"value": 1}).status_code == 400
    for name in ("%2e%2e", "%252e%252e", "%2e"):
        r = api.delete(f"{BASE}/{EID}/attrs/{name}")
        assert r.status_code == 400, name
    assert api.get(f"{BASE}/{EID}").json()["speed"]  # nothing was deleted


def test_temporal_provision_replaces_the_instance_of_the_same_time(api: Api) -> None:
    create(api, speed=instances([(120, at(3)), (80, at(5))]))
    again = {"id": EID, "type": "Vehicle", "speed": instances([(121, at(3)), (80, at(5)), (100, at(7))])}
    assert api.post(BASE, json=again).status_code == 204
    assert [i["value"] for i in api.get(f"{BASE}/{EID}").json()["speed"]] == [121, 80, 100]
    assert api.get(f"/ngsi-ld/v1/entities/{EID}").json()["speed"]["value"] == 100


def test_scope_q_keeps_what_was_observed_while_the_scope_held(api: Api) -> None:
    def scoped(eid: str, scopes: list[tuple[Any, str]], speeds: list[tuple[Any, str]]) -> None:
        create(api, eid, scope=instances(scopes), speed=instances(speeds))

    scoped("urn:ngsi-ld:Vehicle:ab", [("/A/B", at(0, 10))], [("ab", at(5))])
    scoped("urn:ngsi-ld:Vehicle:both", [(["/A/B", "/C"], at(0, 10))], [("both", at(5))])
    scoped("urn:ngsi-ld:Vehicle:mid", [("/M", at(10))], [("midpre", at(5)), ("midpost", at(15))])
    scoped("urn:ngsi-ld:Vehicle:rep", [("/R", at(0, 10)), ("/S", at(30))], [("old", at(15)), ("new", at(45))])
    scoped("urn:ngsi-ld:Vehicle:late", [("/Z", at(0, 14))], [("late", at(5))])
    create(api, "urn:ngsi-ld:Vehicle:bare", speed=instances([("bare", at(5))]))
    assert api.get("/ngsi-ld/v1/entities/urn:ngsi-ld:Vehicle:rep").json()["scope"] == "/S"  # the latest

    def speeds(scope_q: str) -> dict[str, list[Any]]:
        window = {"timerel": "between", "timeAt": at(0), "endTimeAt": at(0, 13)}
        r = api.get(BASE, params={"type": "Vehicle", "attrs": "speed", "scopeQ": scope_q, **window})
        assert r.status_code == 200, r.text
        return {e["id"].rpartition(":")[2]: [i["value"] for i in e["speed"]] for e in r.json()}

    assert speeds("/A/B") == {"ab": ["ab"], "both": ["both"]}
    assert speeds("/A/#") == {"ab": ["ab"], "both": ["both"]}
    assert speeds("(/A/B;/C)") == {"both": ["both"]}
    assert speeds("/M|/R") == {"mid": ["midpost"], "rep": ["old"]}
    assert speeds("/S") == {"rep": ["new"]}
    assert speeds("/#") == {"ab": ["ab"], "both": ["both"], "mid": ["midpost"], "rep": ["old", "new"]}
    assert speeds("/Z") == {}  # set only after the window
    for bad in ("A/B", "(/A", "/A;", "/A//B"):
        r = api.get(BASE, params={"type": "Vehicle", "scopeQ": bad})
        assert r.status_code == 400 and r.json()["type"].endswith("BadRequestData"), bad


def test_ngsi_ld_null_is_no_temporal_member(api: Api) -> None:
    body = {"id": EID, "type": "Vehicle", "expiresAt": NULL, "speed": instances(SPEED[:1])}
    r = api.post(BASE, json=body)
    assert r.status_code == 400 and r.json()["type"].endswith("BadRequestData")
    assert api.get(f"{BASE}/{EID}").status_code == 404  # nothing stored
