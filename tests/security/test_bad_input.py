"""The bad-input catalogue (issue 16, findings 7 and 11): requests with values no server should take.

Each row once made the server fail (a 500, a hung writer, a row PostgreSQL cannot store) or answer a
question that makes no sense with 200 ``[]``. Each now answers 400 with a problem document whose
detail names what is wrong, and stores nothing. The rows that store something run on PostgreSQL too.
"""

from __future__ import annotations

from typing import Any

import pytest
from conftest import Api

BIG = str(10**20)  # past a signed 64-bit integer: SQLite and PostgreSQL refuse to bind it
NUL = "\x00"
SENSOR = "urn:ngsi-ld:Sensor:s1"
TEMPORAL = "/ngsi-ld/v1/temporal/entities"
QUERY = {"type": "Query", "entities": [{"type": "Sensor"}]}
POINT = {"georel": "within", "geometry": "Point", "coordinates": "[121.47,31.23]", "type": "Sensor"}
SUBSCRIPTION = {
    "type": "Subscription",
    "entities": [{"type": "Sensor"}],
    "notification": {"endpoint": {"uri": "http://example.com/notify"}},
}
DEVICE = {"device_id": "d9", "apikey": "bad-input", "device_type": "meter", "entity_type": "Meter"}
MEASURES = {"t": {"attr": "temperature"}}

Row = tuple[str, str, str, dict[str, Any], str]  # (what, method, path, request keywords, word in the detail)


def _params(**kw: str) -> dict[str, Any]:
    return {"params": kw}


# Values out of every range: answered before any query runs, on either database.
VALUES: list[Row] = [
    ("offset /cases", "GET", "/cases", _params(offset=BIG), "offset"),
    ("offset /cases/queue", "GET", "/cases/queue", _params(offset=BIG, department="water"), "offset"),
    ("offset /iot/devices", "GET", "/iot/devices", _params(offset=BIG), "offset"),
    ("offset /iot/deadletters", "GET", "/iot/deadletters", _params(offset=BIG), "offset"),
    ("offset /vitals/warnings", "GET", "/vitals/warnings", _params(offset=BIG), "offset"),
    ("offset entities", "GET", "/ngsi-ld/v1/entities", _params(type="Sensor", offset=BIG), "offset"),
    ("offset subscriptions", "GET", "/ngsi-ld/v1/subscriptions", _params(offset=BIG), "offset"),
    ("offset temporal", "GET", TEMPORAL, _params(type="Sensor", offset=BIG), "offset"),
    ("offset query", "POST", "/ngsi-ld/v1/entityOperations/query", {**_params(offset=BIG), "json": QUERY}, "offset"),
    (
        "offset temporal query",
        "POST",
        "/ngsi-ld/v1/temporal/entityOperations/query",
        {**_params(offset=BIG), "json": QUERY},
        "offset",
    ),
    ("offset past the bound", "GET", "/ngsi-ld/v1/entities", _params(type="Sensor", offset="1000001"), "offset"),
    ("offset past the bound /cases", "GET", "/cases", _params(offset="1000001"), "offset"),
    (
        "aggrPeriodDuration",
        "GET",
        f"{TEMPORAL}/{SENSOR}",
        _params(options="aggregatedValues", aggrMethods="sum", aggrPeriodDuration="P99999999999W"),
        "aggrPeriodDuration",
    ),
    (
        "aggrPeriodDuration of seconds",
        "GET",
        TEMPORAL,
        _params(type="Sensor", options="aggregatedValues", aggrMethods="max", aggrPeriodDuration="PT" + "9" * 30 + "S"),
        "aggrPeriodDuration",
    ),
    ("within a Point", "GET", "/ngsi-ld/v1/entities", {"params": POINT}, "within"),
    (
        "within a LineString",
        "GET",
        "/ngsi-ld/v1/entities",
        {"params": {**POINT, "geometry": "LineString", "coordinates": "[[121.47,31.23],[121.48,31.24]]"}},
        "Polygon",
    ),
    ("overlaps a Point", "GET", "/ngsi-ld/v1/entities", {"params": {**POINT, "georel": "overlaps"}}, "overlaps"),
    ("within a Point, temporal", "GET", TEMPORAL, {"params": POINT}, "within"),
    (
        "within a Point, query",
        "POST",
        "/ngsi-ld/v1/entityOperations/query",
        {"json": {**QUERY, "geoQ": {k: v for k, v in POINT.items() if k != "type"}}},
        "within",
    ),
    (
        "within a Point, subscription",
        "POST",
        "/ngsi-ld/v1/subscriptions",
        {"json": {**SUBSCRIPTION, "geoQ": {k: v for k, v in POINT.items() if k != "type"}}},
        "within",
    ),
]

# Ids, names and texts PostgreSQL cannot store (U+0000) or that no id holds (control characters).
NAMES: list[Row] = [
    (
        "entity id",
        "POST",
        "/ngsi-ld/v1/entities",
        {"json": {"id": f"urn:ngsi-ld:Sensor:a{NUL}b", "type": "Sensor"}},
        "U+0000",
    ),
    (
        "entity id, C1",
        "POST",
        "/ngsi-ld/v1/entities",
        {"json": {"id": "urn:ngsi-ld:Sensor:a\x85", "type": "Sensor"}},
        "U+0085",
    ),
    (
        "entity type",
        "POST",
        "/ngsi-ld/v1/entities",
        {"json": {"id": "urn:ngsi-ld:Sensor:n2", "type": f"Sensor{NUL}"}},
        "entity type",
    ),
    (
        "attribute name",
        "POST",
        "/ngsi-ld/v1/entities",
        {"json": {"id": "urn:ngsi-ld:Sensor:n3", "type": "Sensor", f"t{NUL}": {"type": "Property", "value": 1}}},
        "attribute name",
    ),
    (
        "attribute value",
        "POST",
        "/ngsi-ld/v1/entities",
        {
            "json": {
                "id": "urn:ngsi-ld:Sensor:n4",
                "type": "Sensor",
                "status": {"type": "Property", "value": f"a{NUL}b"},
            }
        },
        "U+0000",
    ),
    (
        "compound value",
        "POST",
        "/ngsi-ld/v1/entities",
        {"json": {"id": "urn:ngsi-ld:Sensor:n5", "type": "Sensor", "address": {"street": {f"n{NUL}": "1"}}}},
        "U+0000",
    ),
    (
        "datasetId",
        "POST",
        "/ngsi-ld/v1/entities",
        {
            "json": {
                "id": "urn:ngsi-ld:Sensor:n6",
                "type": "Sensor",
                "t": {"type": "Property", "value": 1, "datasetId": "urn:x:\x01"},
            }
        },
        "datasetId",
    ),
    (
        "scope",
        "POST",
        "/ngsi-ld/v1/entities",
        {"json": {"id": "urn:ngsi-ld:Sensor:n7", "type": "Sensor", "scope": f"/Huangpu/{NUL}"}},
        "scope",
    ),
    (
        "patch value",
        "PATCH",
        f"/ngsi-ld/v1/entities/{SENSOR}/attrs",
        {"json": {"status": {"type": "Property", "value": NUL}}},
        "U+0000",
    ),
    ("temporal entity id", "POST", TEMPORAL, {"json": {"id": f"urn:ngsi-ld:Sensor:{NUL}", "type": "Sensor"}}, "U+0000"),
    (
        "temporal value",
        "POST",
        f"{TEMPORAL}/{SENSOR}/attrs",
        {"json": {"id": SENSOR, "status": [{"type": "Property", "value": NUL, "observedAt": "2026-01-01T00:00:00Z"}]}},
        "U+0000",
    ),
    (
        "subscription id",
        "POST",
        "/ngsi-ld/v1/subscriptions",
        {"json": {**SUBSCRIPTION, "id": f"urn:ngsi-ld:Subscription:{NUL}"}},
        "U+0000",
    ),
    ("group name", "POST", "/iot/groups", {"json": {"apikey": "g2", "name": f"g{NUL}", "department": "water"}}, "name"),
    (
        "group department",
        "POST",
        "/iot/groups",
        {"json": {"apikey": "g3", "name": "g", "department": f"w{NUL}"}},
        "department",
    ),
    (
        "device type",
        "POST",
        "/iot/devices",
        {"json": {**DEVICE, "device_type": f"m{NUL}", "measures": MEASURES}},
        "device_type",
    ),
    (
        "measure name",
        "POST",
        "/iot/devices",
        {"json": {**DEVICE, "measures": {f"t{NUL}": {"attr": "temperature"}}}},
        "measures",
    ),
    (
        "measure attribute",
        "POST",
        "/iot/devices",
        {"json": {**DEVICE, "measures": {"t": {"attr": f"t{NUL}"}}}},
        "attr",
    ),
    (
        "unit code",
        "POST",
        "/iot/devices",
        {"json": {**DEVICE, "measures": {"t": {"attr": "temperature", "unitCode": f"C{NUL}"}}}},
        "unitCode",
    ),
    ("device patch", "PATCH", "/iot/devices/d1", {"json": {"device_type": f"m{NUL}"}}, "device_type"),
    (
        "command value",
        "POST",
        "/iot/devices/d1/commands",
        {"json": {"command": "switch", "value": f"on{NUL}"}},
        "U+0000",
    ),
    (
        "telemetry device id",
        "POST",
        "/iot/ul",
        {"params": {"k": "bad-input", "i": f"d{NUL}"}, "content": b"t|1"},
        "U+0000",
    ),
    ("device id in a path", "GET", "/iot/devices/d%00", {}, "U+0000"),
    ("device filter", "GET", "/iot/devices", _params(deviceType=NUL), "U+0000"),
    ("case id in a path", "GET", "/cases/c%00", {}, "U+0000"),
    ("case filter", "GET", "/cases", _params(category=NUL), "U+0000"),
    ("warning filter", "GET", "/vitals/warnings", _params(indicator=NUL), "U+0000"),
    ("idPattern", "GET", "/ngsi-ld/v1/entities", _params(idPattern=f"a{NUL}"), "U+0000"),
    ("entity id in a path", "GET", "/ngsi-ld/v1/entities/urn:ngsi-ld:Sensor:%00", {}, "U+0000"),
    (
        "login name",
        "POST",
        "/auth/login",
        {"json": {"username": f"admin{NUL}", "password": "x"}, "token": None},
        "username",
    ),
    ("bulk device id", "POST", "/iot/bulk", {"params": {"k": "bad-input"}, "json": {f"d{NUL}": {"t": 1}}}, "U+0000"),
    # free text in bodies: refused before any route parses them (cityos.bodylimit)
    ("case text", "POST", "/cases", {"json": {"text": f"路灯{NUL}不亮", "category": "streetlight-out"}}, "U+0000"),
    (
        "case reporter",
        "POST",
        "/cases",
        {"json": {"text": "路灯不亮", "category": "streetlight-out", "reporter": {"name": f"王{NUL}"}}},
        "U+0000",
    ),
    (
        "subscription description",
        "POST",
        "/ngsi-ld/v1/subscriptions",
        {"json": {**SUBSCRIPTION, "description": f"d{NUL}"}},
        "U+0000",
    ),
    ("@context", "POST", "/ngsi-ld/v1/jsonldContexts", {"json": {"@context": {"a": f"urn:a{NUL}"}}}, "U+0000"),
]


def _setup(api: Api) -> None:
    """An entity with a history, a device group and a device, for the rows that need them."""
    entity = {
        "id": SENSOR,
        "type": "Sensor",
        "t": {"type": "Property", "value": 1, "observedAt": "2026-01-01T00:00:00Z"},
    }
    assert api.post("/ngsi-ld/v1/entities", json=entity).status_code == 201
    group = {"apikey": "bad-input", "name": "bad input", "department": "water"}
    assert api.post("/iot/groups", json=group).status_code == 201
    device = {
        **DEVICE,
        "device_id": "d1",
        "measures": {"t": {"attr": "temperature"}, "s": {"attr": "status", "kind": "text"}},
    }
    assert api.post("/iot/devices", json=device).status_code == 201, api.post("/iot/devices", json=device).text


def _check(api: Api, method: str, path: str, kw: dict[str, Any], word: str) -> None:
    r = api.request(method, path, **kw)
    assert r.status_code == 400, f"{method} {path}: {r.status_code} {r.text[:300]}"
    body = r.json()
    assert {"type", "title", "status", "detail"} <= set(body), body
    assert body["status"] == 400
    if path.startswith("/ngsi-ld/"):
        assert body["type"].startswith("https://uri.etsi.org/ngsi-ld/errors/"), body
    else:
        assert r.headers["content-type"].startswith("application/problem+json")
    assert word in body["detail"], body["detail"]


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
@pytest.mark.parametrize(("what", "method", "path", "kw", "word"), VALUES, ids=[r[0] for r in VALUES])
def test_values_out_of_range_answer_400_naming_them(
    api: Api, what: str, method: str, path: str, kw: dict[str, Any], word: str
) -> None:
    _setup(api)
    _check(api, method, path, kw, word)


# lastN past every integer a database binds: once refused as out of range (400); since issue 24 a lastN larger
# than an answer holds is served as the most recent instances (NGSI-LD v1.8 clause 6.3.10: 206 when they are more
# than a page), and it is never bound into SQL whole.
LAST_N: list[tuple[str, str, str, dict[str, Any]]] = [
    ("lastN temporal entity", "GET", f"{TEMPORAL}/{SENSOR}", _params(lastN=BIG)),
    ("lastN temporal", "GET", TEMPORAL, _params(type="Sensor", lastN=BIG)),
    (
        "lastN temporal query",
        "POST",
        "/ngsi-ld/v1/temporal/entityOperations/query",
        {**_params(lastN=BIG), "json": QUERY},
    ),
    ("lastN of 5000 digits", "GET", f"{TEMPORAL}/{SENSOR}", _params(lastN="9" * 5000)),
]


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
@pytest.mark.parametrize(("what", "method", "path", "kw"), LAST_N, ids=[r[0] for r in LAST_N])
def test_a_last_n_past_every_integer_answers_the_most_recent_instances(
    api: Api, what: str, method: str, path: str, kw: dict[str, Any]
) -> None:
    _setup(api)
    r = api.request(method, path, **kw)
    assert r.status_code == 200, r.text  # the one instance the sensor holds is the whole answer
    body = r.json()
    sensor = body if isinstance(body, dict) else next(e for e in body if e["id"] == SENSOR)
    assert [i["value"] for i in sensor["t"]] == [1]


@pytest.mark.parametrize(("what", "method", "path", "kw", "word"), NAMES, ids=[r[0] for r in NAMES])
def test_names_that_cannot_be_stored_answer_400(
    api: Api, what: str, method: str, path: str, kw: dict[str, Any], word: str
) -> None:
    _setup(api)
    _check(api, method, path, kw, word)
    assert _sensors(api) == 1
    assert len(api.get("/iot/devices").json()) == 1
    assert api.get("/iot/deadletters").json() == []


def _sensors(api: Api) -> int:
    r = api.get("/ngsi-ld/v1/entities", params={"type": "Sensor", "count": "true", "limit": "0"})
    return int(r.headers["NGSILD-Results-Count"])


def test_a_batch_refuses_an_id_that_cannot_be_stored_and_keeps_the_others(api: Api) -> None:
    batch = [{"id": f"urn:ngsi-ld:Sensor:{NUL}", "type": "Sensor"}, {"id": "urn:ngsi-ld:Sensor:ok", "type": "Sensor"}]
    r = api.post("/ngsi-ld/v1/entityOperations/create", json=batch)
    assert r.status_code == 207, r.text
    (error,) = r.json()["errors"]
    assert error["error"]["status"] == 400 and "U+0000" in error["error"]["detail"]
    assert r.json()["success"] == ["urn:ngsi-ld:Sensor:ok"]
    assert _sensors(api) == 1


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/ngsi-ld/v1/entities", {"id": "urn:ngsi-ld:Street:南京东路", "type": "Street"}),
        (
            TEMPORAL,
            {
                "id": "urn:ngsi-ld:Street:南京东路",
                "type": "Street",
                "name": [{"type": "Property", "value": "南京东路", "observedAt": "2026-01-01T00:00:00Z"}],
            },
        ),
        ("/ngsi-ld/v1/subscriptions", {**SUBSCRIPTION, "id": "urn:ngsi-ld:Subscription:南京东路"}),
        ("/ngsi-ld/v1/entities", {"id": "urn:ngsi-ld:Street:a?b#c", "type": "Street"}),
    ],
    ids=["entity", "temporal entity", "subscription", "reserved characters"],
)
def test_an_iri_id_is_created_once_and_found_at_its_location(api: Api, path: str, body: dict[str, Any]) -> None:
    """An id is an IRI: Chinese is welcome. ``Location`` carries it as a URI (UTF-8, percent-encoded), and
    a GET of that location finds it; a second POST is a conflict, never a 500 after storing."""
    r = api.post(path, json=body)
    assert r.status_code == 201, r.text
    location = r.headers["Location"]
    assert location.isascii() and location.startswith(path + "/")
    found = api.get(location)
    assert found.status_code == 200, found.text
    assert found.json()["id"] == body["id"]
    again = api.post(path, json=body)
    assert again.status_code in (409, 204), again.text  # the temporal API adds instances to an existing entity


def test_telemetry_holding_nul_is_a_dead_letter_and_the_next_reading_is_stored(api: Api) -> None:
    """U+0000 in a text measure is refused as unparseable (kept as a dead letter, its payload as bytes);
    before, PostgreSQL refused the row and the writer tried the batch again and again."""
    _setup(api)
    plain = {"Content-Type": "text/plain"}
    r = api.post("/iot/ul", params={"k": "bad-input", "i": "d1"}, content=b"s|a\x00b", headers=plain)
    assert r.status_code == 400, r.text
    assert "U+0000" in r.json()["detail"]
    (letter,) = api.get("/iot/deadletters").json()
    assert letter["reasonCode"] == "unparseable"
    r = api.post("/iot/ul", params={"k": "bad-input", "i": "d1"}, content=b"s|open", headers=plain)
    assert r.status_code == 200, r.text
    meter = api.get("/ngsi-ld/v1/entities/urn:ngsi-ld:Meter:d1").json()
    assert meter["status"]["value"] == "open"


def test_open311_refuses_nul_in_its_own_error_list(api: Api) -> None:
    r = api.get("/open311/v2/requests.json", params={"service_code": NUL}, token=None)
    assert r.status_code == 400, r.text
    (error,) = r.json()
    assert error["code"] == 400 and "U+0000" in error["description"]


def test_an_open311_report_holding_nul_is_refused_before_it_is_read(api: Api) -> None:
    """As every body the body limit refuses (size, depth, U+0000): a problem document, before the route."""
    form = {"service_code": "streetlight-out", "description": "a\x00b", "lat": "31.23", "long": "121.47"}
    r = api.post("/open311/v2/requests.json", data=form, token=None)
    assert r.status_code == 400, r.text
    assert r.headers["content-type"].startswith("application/problem+json") and "U+0000" in r.json()["detail"]
