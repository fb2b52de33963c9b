"""The NGSI-LD entity API over HTTP (in-process), on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import Api

ERR = "https://uri.etsi.org/ngsi-ld/errors/"
LD = "application/ld+json"


def bund_sensor(n: int = 1, **extra: Any) -> dict[str, Any]:
    entity = {
        "id": f"urn:ngsi-ld:CrowdFlowObserved:bund-{n:03d}",
        "type": "CrowdFlowObserved",
        "peopleCount": {
            "type": "Property",
            "value": 1200 + n,
            "observedAt": "2026-11-21T12:00:00Z",
            "unitCode": "C62",
            "accuracy": {"type": "Property", "value": 0.95},
        },
        "congested": {"type": "Property", "value": False},
        "name": {"type": "LanguageProperty", "languageMap": {"zh": "外滩客流", "en": "Bund crowd"}},
        "refGrid": {"type": "Relationship", "object": "urn:ngsi-ld:Grid:HP-WT-01"},
        "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [121.4905, 31.2397]}},
        "address": {"type": "Property", "value": {"addressLocality": "黄浦区", "streetAddress": "中山东一路"}},
    }
    entity.update(extra)
    return entity


def assert_problem(resp: Any, status: int, error_type: str | None = None) -> dict[str, Any]:
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert {"type", "title", "status", "detail"} <= body.keys(), body
    assert body["status"] == status
    assert body["detail"]
    if error_type:
        assert body["type"] == ERR + error_type, body
    return body


def test_create_and_retrieve_round_trip(api: Api) -> None:
    e = bund_sensor()
    r = api.post("/ngsi-ld/v1/entities", json=e)
    assert r.status_code == 201, r.text
    assert r.headers["location"] == f"/ngsi-ld/v1/entities/{e['id']}"
    got = api.get(f"/ngsi-ld/v1/entities/{e['id']}")
    assert got.status_code == 200
    assert got.headers["content-type"].startswith("application/json")
    assert 'rel="http://www.w3.org/ns/json-ld#context"' in got.headers["link"]
    body = got.json()
    assert body == e  # what was sent, observedAt without milliseconds it did not have too
    assert_problem(api.post("/ngsi-ld/v1/entities", json=e), 409, "AlreadyExists")


def test_representations(api: Api) -> None:
    e = bund_sensor()
    api.post("/ngsi-ld/v1/entities", json=e)
    url = f"/ngsi-ld/v1/entities/{e['id']}"
    kv = api.get(url, params={"options": "keyValues"}).json()
    assert kv["peopleCount"] == 1201 and kv["refGrid"] == "urn:ngsi-ld:Grid:HP-WT-01"
    assert kv["location"] == {"type": "Point", "coordinates": [121.4905, 31.2397]}
    assert api.get(url, params={"format": "simplified"}).json() == kv
    concise = api.get(url, params={"options": "concise"}).json()
    assert concise["congested"] is False
    assert concise["refGrid"] == {"object": "urn:ngsi-ld:Grid:HP-WT-01"}
    assert concise["peopleCount"]["value"] == 1201 and concise["peopleCount"]["accuracy"] == 0.95
    assert concise["location"] == {"type": "Point", "coordinates": [121.4905, 31.2397]}
    sys = api.get(url, params={"options": "sysAttrs"}).json()
    assert sys["createdAt"].endswith("Z") and "modifiedAt" in sys["peopleCount"]
    assert "createdAt" not in api.get(url).json()
    picked = api.get(url, params={"pick": "id,peopleCount"}).json()
    assert set(picked) == {"id", "peopleCount"}
    omitted = api.get(url, params={"omit": "location,address"}).json()
    assert "location" not in omitted and "address" not in omitted and "name" in omitted
    only = api.get(url, params={"attrs": "congested"}).json()
    assert set(only) == {"id", "type", "congested"}
    en = api.get(url, params={"lang": "en"}).json()
    assert en["name"] == {"type": "Property", "value": "Bund crowd", "lang": "en"}
    ld = api.get(url, headers={"Accept": LD})
    assert ld.headers["content-type"].startswith(LD)
    assert ld.json()["@context"] == "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.9.jsonld"
    geo = api.get(url, headers={"Accept": "application/geo+json"}).json()
    assert geo["type"] == "Feature" and geo["geometry"]["coordinates"] == [121.4905, 31.2397]


def test_replace_merge_append_update_and_delete(api: Api) -> None:
    e = bund_sensor()
    base = f"/ngsi-ld/v1/entities/{e['id']}"
    api.post("/ngsi-ld/v1/entities", json=e)

    # merge: value replaced, sub-attribute kept, urn:ngsi-ld:null deletes
    r = api.patch(base, json={"peopleCount": {"type": "Property", "value": 5000}, "congested": "urn:ngsi-ld:null"})
    assert r.status_code == 204, r.text
    got = api.get(base).json()
    assert got["peopleCount"]["value"] == 5000 and got["peopleCount"]["accuracy"]["value"] == 0.95
    assert "congested" not in got

    # append with noOverwrite: existing attribute refused (207), new one added
    r = api.post(
        f"{base}/attrs",
        params={"options": "noOverwrite"},
        json={"peopleCount": {"type": "Property", "value": 1}, "direction": {"type": "Property", "value": "inbound"}},
    )
    assert r.status_code == 207
    assert r.json()["notUpdated"][0]["attributeName"] == "peopleCount"
    assert "direction" in r.json()["updated"]
    assert api.get(base).json()["peopleCount"]["value"] == 5000

    # update attributes: only existing ones
    r = api.patch(
        f"{base}/attrs",
        json={"direction": {"type": "Property", "value": "outbound"}, "missing": {"type": "Property", "value": 1}},
    )
    assert r.status_code == 207 and r.json()["updated"] == ["direction"]
    assert api.get(base).json()["direction"]["value"] == "outbound"

    # partial attribute update keeps what it does not mention
    assert api.patch(f"{base}/attrs/peopleCount", json={"value": 7}).status_code == 204
    pc = api.get(base).json()["peopleCount"]
    assert pc["value"] == 7 and pc["unitCode"] == "C62"
    assert_problem(api.patch(f"{base}/attrs/nosuch", json={"value": 1}), 404, "ResourceNotFound")

    # replace: the entity becomes exactly the body
    r = api.put(base, json={"type": "CrowdFlowObserved", "peopleCount": {"type": "Property", "value": 3}})
    assert r.status_code == 204, r.text
    assert api.get(base).json() == {
        "id": e["id"],
        "type": "CrowdFlowObserved",
        "peopleCount": {"type": "Property", "value": 3},
    }

    assert api.delete(f"{base}/attrs/peopleCount").status_code == 204
    assert_problem(api.delete(f"{base}/attrs/peopleCount"), 404, "ResourceNotFound")
    assert api.delete(base).status_code == 204
    assert_problem(api.get(base), 404, "ResourceNotFound")
    assert_problem(api.delete(base), 404, "ResourceNotFound")


def test_multi_instance_attributes_by_dataset_id(api: Api) -> None:
    e = {
        "id": "urn:ngsi-ld:AirQualityObserved:hp-1",
        "type": "AirQualityObserved",
        "pm25": [
            {"type": "Property", "value": 35, "datasetId": "urn:ngsi-ld:Dataset:station"},
            {"type": "Property", "value": 41, "datasetId": "urn:ngsi-ld:Dataset:satellite"},
            {"type": "Property", "value": 38},
        ],
    }
    assert api.post("/ngsi-ld/v1/entities", json=e).status_code == 201
    base = f"/ngsi-ld/v1/entities/{e['id']}"
    assert len(api.get(base).json()["pm25"]) == 3
    q = api.get("/ngsi-ld/v1/entities", params={"type": "AirQualityObserved", "q": "pm25>40"}).json()
    assert [x["id"] for x in q] == [e["id"]]  # any instance may match
    assert api.delete(f"{base}/attrs/pm25", params={"datasetId": "urn:ngsi-ld:Dataset:satellite"}).status_code == 204
    assert {i.get("datasetId") for i in api.get(base).json()["pm25"]} == {"urn:ngsi-ld:Dataset:station", None}
    assert api.delete(f"{base}/attrs/pm25").status_code == 204  # the default instance
    assert api.get(base).json()["pm25"]["datasetId"] == "urn:ngsi-ld:Dataset:station"
    api.post(f"{base}/attrs", json={"pm25": {"type": "Property", "value": 1}})
    assert api.delete(f"{base}/attrs/pm25", params={"deleteAll": "true"}).status_code == 204
    assert "pm25" not in api.get(base).json()
    dup = dict(
        e,
        id="urn:ngsi-ld:AirQualityObserved:hp-2",
        pm25=[{"type": "Property", "value": 1}, {"type": "Property", "value": 2}],
    )
    assert_problem(api.post("/ngsi-ld/v1/entities", json=dup), 400, "BadRequestData")


def test_query_filters_paging_and_count(api: Api) -> None:
    for n in range(1, 8):
        api.post("/ngsi-ld/v1/entities", json=bund_sensor(n))
    api.post(
        "/ngsi-ld/v1/entities",
        json={
            "id": "urn:ngsi-ld:Streetlight:sl-1",
            "type": "Streetlight",
            "status": {"type": "Property", "value": "ok"},
        },
    )
    url = "/ngsi-ld/v1/entities"
    ids = lambda r: [x["id"] for x in r.json()]  # noqa: E731
    assert len(api.get(url, params={"type": "CrowdFlowObserved"}).json()) == 7
    r = api.get(url, params={"type": "CrowdFlowObserved", "q": "peopleCount>=1205", "count": "true"})
    assert ids(r) == [bund_sensor(n)["id"] for n in (5, 6, 7)] and r.headers["NGSILD-Results-Count"] == "3"
    r = api.get(url, params={"type": "CrowdFlowObserved,Streetlight", "limit": 3, "offset": 6, "count": "true"})
    assert ids(r) == [bund_sensor(7)["id"], "urn:ngsi-ld:Streetlight:sl-1"]
    assert r.headers["NGSILD-Results-Count"] == "8"
    assert ids(api.get(url, params={"idPattern": ".*bund-00[12]$"})) == [bund_sensor(1)["id"], bund_sensor(2)["id"]]
    assert ids(api.get(url, params={"id": "urn:ngsi-ld:Streetlight:sl-1", "type": "Streetlight"})) == [
        "urn:ngsi-ld:Streetlight:sl-1"
    ]
    assert ids(api.get(url, params={"attrs": "status"})) == ["urn:ngsi-ld:Streetlight:sl-1"]
    r = api.get(url, params={"q": 'refGrid=="urn:ngsi-ld:Grid:HP-WT-01";peopleCount<1203'})
    assert ids(r) == [bund_sensor(1)["id"], bund_sensor(2)["id"]]
    r = api.get(
        url,
        params={"type": "CrowdFlowObserved", "q": 'address[streetAddress]=="中山东一路"', "limit": 0, "count": "true"},
    )
    assert r.json() == [] and r.headers["NGSILD-Results-Count"] == "7"
    near = api.get(
        url,
        params={
            "type": "CrowdFlowObserved",
            "georel": "near;maxDistance==100",
            "geometry": "Point",
            "coordinates": "[121.4906,31.2398]",
        },
    )
    assert len(near.json()) == 7
    far = api.get(
        url,
        params={
            "type": "CrowdFlowObserved",
            "georel": "near;maxDistance==100",
            "geometry": "Point",
            "coordinates": "[121.4737,31.2304]",
        },
    )
    assert far.json() == []
    assert_problem(api.get(url, params={"type": "CrowdFlowObserved", "limit": 101}), 403, "TooManyResults")
    assert_problem(api.get(url), 400, "BadRequestData")


def test_batch_operations(api: Api) -> None:
    ops = "/ngsi-ld/v1/entityOperations"
    r = api.post(f"{ops}/create", json=[bund_sensor(1), bund_sensor(2)])
    assert r.status_code == 201 and r.json() == [bund_sensor(1)["id"], bund_sensor(2)["id"]]
    r = api.post(f"{ops}/create", json=[bund_sensor(2), bund_sensor(3), {"id": "not a uri", "type": "X"}])
    assert r.status_code == 207
    assert r.json()["success"] == [bund_sensor(3)["id"]]
    errors = {e["entityId"]: e["error"]["type"] for e in r.json()["errors"]}
    assert errors == {bund_sensor(2)["id"]: ERR + "AlreadyExists", "not a uri": ERR + "BadRequestData"}

    r = api.post(f"{ops}/upsert", json=[bund_sensor(1), bund_sensor(4)])
    assert r.status_code == 201 and r.json() == [bund_sensor(4)["id"]]
    assert api.post(f"{ops}/upsert", json=[bund_sensor(1)]).status_code == 204
    r = api.post(
        f"{ops}/upsert",
        params={"options": "update"},
        json=[{"id": bund_sensor(1)["id"], "type": "CrowdFlowObserved", "extra": {"type": "Property", "value": 1}}],
    )
    assert r.status_code == 204
    assert "peopleCount" in api.get(f"/ngsi-ld/v1/entities/{bund_sensor(1)['id']}").json()

    r = api.post(
        f"{ops}/update",
        json=[
            {"id": bund_sensor(1)["id"], "congested": {"type": "Property", "value": True}},
            {"id": "urn:ngsi-ld:X:none", "a": {"type": "Property", "value": 1}},
        ],
    )
    assert r.status_code == 207 and r.json()["success"] == [bund_sensor(1)["id"]]
    r = api.post(f"{ops}/merge", json=[{"id": bund_sensor(1)["id"], "extra": "urn:ngsi-ld:null"}])
    assert r.status_code == 204
    assert "extra" not in api.get(f"/ngsi-ld/v1/entities/{bund_sensor(1)['id']}").json()

    r = api.post(
        f"{ops}/query", json={"type": "Query", "entities": [{"type": "CrowdFlowObserved"}], "q": "congested==true"}
    )
    assert [x["id"] for x in r.json()] == [bund_sensor(1)["id"]]

    r = api.post(f"{ops}/delete", json=[bund_sensor(1)["id"], "urn:ngsi-ld:X:none"])
    assert r.status_code == 207 and r.json()["success"] == [bund_sensor(1)["id"]]
    assert api.post(f"{ops}/delete", json=[bund_sensor(2)["id"]]).status_code == 204
    assert_problem(api.post(f"{ops}/create", json={"id": "x"}), 400, "BadRequestData")


def test_types_and_attributes(api: Api) -> None:
    api.post("/ngsi-ld/v1/entities", json=bund_sensor(1))
    api.post("/ngsi-ld/v1/entities", json=bund_sensor(2))
    types = api.get("/ngsi-ld/v1/types").json()
    assert types["type"] == "EntityTypeList" and types["typeList"] == ["CrowdFlowObserved"]
    info = api.get("/ngsi-ld/v1/types/CrowdFlowObserved").json()
    assert info["entityCount"] == 2
    kinds = {d["attributeName"]: d["attributeTypes"] for d in info["attributeDetails"]}
    assert kinds["refGrid"] == ["Relationship"] and kinds["location"] == ["GeoProperty"]
    detailed = api.get("/ngsi-ld/v1/types", params={"details": "true"}).json()
    assert "peopleCount" in detailed[0]["attributeNames"]
    attrs = api.get("/ngsi-ld/v1/attributes").json()
    assert "peopleCount" in attrs["attributeList"]
    one = api.get("/ngsi-ld/v1/attributes/peopleCount").json()
    assert one["attributeCount"] == 2 and one["typeNames"] == ["CrowdFlowObserved"]
    assert_problem(api.get("/ngsi-ld/v1/types/Nothing"), 404, "ResourceNotFound")
    assert_problem(api.get("/ngsi-ld/v1/attributes/nothing"), 404, "ResourceNotFound")


def test_jsonld_inline_context_expands_and_compacts(api: Api) -> None:
    ctx = {"ex": "https://example.org/city#", "crowd": "ex:peopleCount", "Counter": "ex:Counter"}
    body = {
        "@context": [ctx, "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context.jsonld"],
        "id": "urn:ngsi-ld:Counter:1",
        "type": "Counter",
        "crowd": {"type": "Property", "value": 3},
    }
    r = api.post("/ngsi-ld/v1/entities", content=__import__("json").dumps(body), headers={"Content-Type": LD})
    assert r.status_code == 201, r.text
    # Without the user context, names come back as full IRIs.
    plain = api.get("/ngsi-ld/v1/entities/urn:ngsi-ld:Counter:1").json()
    assert plain["type"] == "https://example.org/city#Counter"
    assert plain["https://example.org/city#peopleCount"]["value"] == 3
    found = api.get(
        "/ngsi-ld/v1/entities",
        params={"type": "https://example.org/city#Counter", "q": "https://example.org/city#peopleCount==3"},
    ).json()
    assert [x["id"] for x in found] == ["urn:ngsi-ld:Counter:1"]


@pytest.mark.parametrize(
    ("kwargs", "status", "error"),
    [
        ({"content": b"{not json", "headers": {"Content-Type": "application/json"}}, 400, "InvalidRequest"),
        ({"json": {"id": "urn:ngsi-ld:X:1"}}, 400, "BadRequestData"),
        ({"json": {"id": "no uri", "type": "X"}}, 400, "BadRequestData"),
        ({"json": {"id": "urn:ngsi-ld:X:1", "type": "X", "a": {"type": "Property"}}}, 400, "BadRequestData"),
        (
            {"json": {"id": "urn:ngsi-ld:X:1", "type": "X", "a": {"type": "Relationship", "object": "nope"}}},
            400,
            "BadRequestData",
        ),
        (
            {
                "json": {
                    "id": "urn:ngsi-ld:X:1",
                    "type": "X",
                    "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [500, 1]}},
                }
            },
            400,
            "BadRequestData",
        ),
        (
            {
                "json": {
                    "id": "urn:ngsi-ld:X:1",
                    "type": "X",
                    "a": {"type": "Property", "value": 1, "observedAt": "yesterday"},
                }
            },
            400,
            "BadRequestData",
        ),
        ({"json": {"id": "urn:ngsi-ld:X:1", "type": "X", "@context": {}}}, 400, "BadRequestData"),
        ({"json": [1, 2]}, 400, "InvalidRequest"),  # not an entity at all (ETSI 001_02_02 sends [])
        ({"json": []}, 400, "InvalidRequest"),
        ({"json": {"id": "urn:ngsi-ld:X:1", "type": "type"}}, 400, "BadRequestData"),  # "type" is @type: no IRI
    ],
)
def test_bad_entities_get_problem_documents(api: Api, kwargs: dict[str, Any], status: int, error: str) -> None:
    assert_problem(api.post("/ngsi-ld/v1/entities", **kwargs), status, error)
    assert api.get("/ngsi-ld/v1/entities/urn:ngsi-ld:X:1").status_code in (404,)


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"type": "A", "q": "a>>1"}, "InvalidRequest"),
        ({"type": "A;(B"}, "InvalidRequest"),
        ({"type": "A", "georel": "nearby", "geometry": "Point", "coordinates": "[1,2]"}, None),
        ({"type": "A", "georel": "near;maxDistance==10", "geometry": "Point", "coordinates": "[1,"}, None),
        ({"type": "A", "georel": "within", "geometry": "Hexagon", "coordinates": "[1,2]"}, None),
        ({"type": "A", "limit": "ten"}, "InvalidRequest"),
        ({"type": "A", "idPattern": "(unclosed"}, "BadRequestData"),
        ({"type": "A", "options": "fancy"}, "InvalidRequest"),
    ],
)
def test_bad_queries_are_400(api: Api, params: dict[str, str], error: str | None) -> None:
    body = assert_problem(api.get("/ngsi-ld/v1/entities", params=params), 400, error)
    if "q" in params:
        assert "position" in body["detail"]


def test_media_types_and_size_limits(api: Api, rt: Any) -> None:
    assert (
        api.post("/ngsi-ld/v1/entities", content=b"<x/>", headers={"Content-Type": "application/xml"}).status_code
        == 415
    )
    assert api.get("/ngsi-ld/v1/entities", params={"type": "A"}, headers={"Accept": "text/csv"}).status_code == 406
    blob = "x" * (rt.settings.max_body_bytes + 1)
    big = {"id": "urn:ngsi-ld:X:big", "type": "X", "blob": {"type": "Property", "value": blob}}
    r = api.post("/ngsi-ld/v1/entities", json=big)
    assert r.status_code == 413 and r.json()["status"] == 413


def test_tokens_roles_and_tenants(api: Api, rt: Any) -> None:
    from cityos.auth.service import create_token

    url = "/ngsi-ld/v1/entities"
    r = api.get(url, params={"type": "A"}, token=None)
    assert r.status_code == 401 and r.json()["status"] == 401
    assert api.get(url, params={"type": "A"}, token="cos_wrong").status_code == 401
    reader = create_token(rt.db, "dashboard", role="reader")
    assert api.get(url, params={"type": "A"}, token=reader).status_code == 200
    assert api.post(url, json=bund_sensor(), token=reader).status_code == 403
    assert api.get("/health", token=None).status_code == 200

    # tenants: created on first write, isolated, and a reader of another tenant is refused
    t = {"NGSILD-Tenant": "jinshan"}
    assert_problem(api.get(url, params={"type": "CrowdFlowObserved"}, headers=t), 404, "NonexistentTenant")
    assert api.post(url, json=bund_sensor(), headers=t).status_code == 201
    assert len(api.get(url, params={"type": "CrowdFlowObserved"}, headers=t).json()) == 1
    assert api.get(url, params={"type": "CrowdFlowObserved"}).json() == []
    huangpu_only = create_token(rt.db, "huangpu-office", role="department", kind="department", tenant="huangpu")
    assert api.get(url, params={"type": "CrowdFlowObserved"}, headers=t, token=huangpu_only).status_code == 403


def test_every_error_is_a_problem_document(api: Api) -> None:
    for method, url in [
        ("GET", "/nowhere"),
        ("DELETE", "/health"),
        ("GET", "/ngsi-ld/v1/entities/bad id"),
        ("GET", "/ngsi-ld/v1/entities?type=A&count=maybe"),
    ]:
        r = api.request(method, url)
        assert r.status_code >= 400
        assert {"type", "title", "status", "detail"} <= r.json().keys()


def test_options_count_is_accepted_as_earlier_clients_send_it(api: Api) -> None:
    api.post("/ngsi-ld/v1/entities", json=bund_sensor(1))
    r = api.get("/ngsi-ld/v1/entities", params={"type": "CrowdFlowObserved", "options": "count,keyValues", "limit": 0})
    assert r.status_code == 200 and r.headers["NGSILD-Results-Count"] == "1"
