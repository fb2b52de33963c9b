"""Causes of ETSI conformance failures, fixed: NGSI-LD Null (urn:ngsi-ld:null) deletes in update, partial
update and merge; the @context API's member names and lookups (ETSI GS CIM 009 5.6, 5.13); date-times
shown as sent. On SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import Api

NULL = "urn:ngsi-ld:null"
CORE = "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.9.jsonld"
LD = {"Content-Type": "application/ld+json"}
EID = "urn:ngsi-ld:Building:hp-bund-1"
DS = "urn:ngsi-ld:Dataset:survey-2026"
BASE = f"/ngsi-ld/v1/entities/{EID}"


def building() -> dict[str, Any]:
    return {
        "id": EID,
        "type": "Building",
        "name": [
            {"type": "Property", "value": "外滩一号"},
            {"type": "Property", "value": "Bund 1", "datasetId": DS},
        ],
        "floors": {"type": "Property", "value": 7},
        "owner": {"type": "Relationship", "object": "urn:ngsi-ld:Org:hp-housing"},
        "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [121.4905, 31.2397]}},
        "street": {"type": "LanguageProperty", "languageMap": {"zh": "中山东一路", "en": "Zhongshan Rd (E1)"}},
    }


@pytest.fixture
def stored(api: Api) -> Api:
    assert api.post("/ngsi-ld/v1/entities", json=building()).status_code == 201
    return api


def attrs(api: Api) -> dict[str, Any]:
    r = api.get(BASE)
    assert r.status_code == 200, r.text
    return {k: v for k, v in r.json().items() if k not in ("id", "type")}


@pytest.mark.parametrize(
    ("fragment", "gone"),
    [
        ({"floors": {"type": "Property", "value": NULL}}, "floors"),
        ({"owner": {"type": "Relationship", "object": NULL}}, "owner"),
        ({"location": {"type": "GeoProperty", "value": NULL}}, "location"),
        ({"street": {"type": "LanguageProperty", "languageMap": {"@none": NULL}}}, "street"),
        ({"floors": NULL}, "floors"),
    ],
)
def test_update_attrs_with_null_deletes_the_attribute(stored: Api, fragment: dict, gone: str) -> None:
    r = stored.patch(f"{BASE}/attrs", json=fragment)
    assert r.status_code == 204, r.text
    left = attrs(stored)
    assert gone not in left
    assert {"name", "floors", "owner", "location", "street"} - {gone} <= left.keys()


def test_null_with_a_dataset_id_deletes_only_that_instance(stored: Api) -> None:
    r = stored.patch(f"{BASE}/attrs", json={"name": {"type": "Property", "value": NULL, "datasetId": DS}})
    assert r.status_code == 204, r.text
    assert attrs(stored)["name"] == {"type": "Property", "value": "外滩一号"}
    # the default instance goes the same way, and with it the attribute
    r = stored.patch(f"{BASE}/attrs/name", json={"type": "Property", "value": NULL})
    assert r.status_code == 204, r.text
    assert "name" not in attrs(stored)


def test_update_attrs_null_for_an_absent_attribute_is_not_updated(stored: Api) -> None:
    r = stored.patch(f"{BASE}/attrs", json={"height": {"type": "Property", "value": NULL}, "floors": 8})
    assert r.status_code == 207, r.text
    assert [n["attributeName"] for n in r.json()["notUpdated"]] == ["height"]
    assert attrs(stored)["floors"]["value"] == 8


@pytest.mark.parametrize(
    ("attr", "fragment"),
    [
        ("location", {"type": "GeoProperty", "value": NULL}),
        ("owner", {"type": "Relationship", "object": NULL}),
        ("floors", {"value": NULL}),
    ],
)
def test_partial_update_with_null_deletes(stored: Api, attr: str, fragment: dict) -> None:
    r = stored.patch(f"{BASE}/attrs/{attr}", json=fragment)
    assert r.status_code == 204, r.text
    assert attr not in attrs(stored)


def test_partial_update_with_null_and_dataset_id(stored: Api) -> None:
    r = stored.patch(f"{BASE}/attrs/name", json={"value": NULL, "datasetId": DS})
    assert r.status_code == 204, r.text
    assert attrs(stored)["name"] == {"type": "Property", "value": "外滩一号"}


def test_merge_with_null_deletes_geo_relationship_and_instance(stored: Api) -> None:
    fragment = {
        "location": {"type": "GeoProperty", "value": NULL},
        "owner": {"type": "Relationship", "object": NULL},
        "name": {"type": "Property", "value": NULL, "datasetId": DS},
        "floors": 8,
    }
    r = stored.patch(BASE, json=fragment)
    assert r.status_code == 204, r.text
    left = attrs(stored)
    assert "location" not in left and "owner" not in left
    assert left["name"] == {"type": "Property", "value": "外滩一号"}
    assert left["floors"]["value"] == 8
    near = {"type": "Building", "georel": "near;maxDistance==500", "geometry": "Point", "coordinates": "[121.49,31.24]"}
    assert stored.get("/ngsi-ld/v1/entities", params=near).json() == []  # the geo index forgot it too


def test_batch_merge_with_null_in_a_list_of_instances(stored: Api) -> None:
    item = {"id": EID, "name": [{"type": "Property", "value": NULL, "datasetId": DS}]}
    r = stored.post("/ngsi-ld/v1/entityOperations/merge", json=[item])
    assert r.status_code == 204, r.text
    assert attrs(stored)["name"] == {"type": "Property", "value": "外滩一号"}


def test_partial_update_as_json_ld_stores_no_context_sub_attribute(stored: Api) -> None:
    r = stored.patch(f"{BASE}/attrs/floors", json={"value": 9, "@context": CORE}, headers=LD)
    assert r.status_code == 204, r.text
    assert attrs(stored)["floors"] == {"type": "Property", "value": 9}


# --- the @context API -------------------------------------------------------------------------------

CONTEXTS = "/ngsi-ld/v1/jsonldContexts"


def test_context_details_use_the_ngsi_ld_member_names(api: Api) -> None:
    body = {"@context": {"hp": "https://huangpu.example.gov.cn/ns#", "crowd": "hp:crowdCount"}}
    r = api.post(CONTEXTS, json=body)
    assert r.status_code == 201, r.text
    path = r.headers["location"]
    local_id = path.rsplit("/", 1)[1]
    listed = api.get(CONTEXTS, params={"details": "true"}).json()
    assert listed == [
        {
            "URL": f"http://testserver{path}",
            "localId": local_id,
            "kind": "Hosted",
            "createdAt": listed[0]["createdAt"],
            "numberOfHits": 0,
        }
    ]
    one = api.get(path, params={"details": "true"}, token=None)
    assert one.json()["localId"] == local_id and one.headers["content-type"] == "application/json"
    # a context is served as JSON (the API's serveContext), as JSON-LD to a client that asks for it
    served = api.get(path, token=None)
    assert served.json() == body and served.headers["content-type"] == "application/json"
    asked = api.get(path, token=None, headers={"Accept": "application/ld+json"})
    assert asked.headers["content-type"] == "application/ld+json"


@pytest.mark.parametrize("details", ["false", "true"])
def test_kind_implicitly_created_is_a_valid_filter(api: Api, details: str) -> None:
    api.post(CONTEXTS, json={"@context": {"a": "https://example.org/a"}})
    r = api.get(CONTEXTS, params={"kind": "ImplicitlyCreated", "details": details})
    assert r.status_code == 200 and r.json() == []
    bad = api.get(CONTEXTS, params={"kind": "Implicit"})
    assert bad.status_code == 400 and "ImplicitlyCreated" in bad.json()["detail"]


def test_context_found_by_its_url_percent_encoded_in_the_path(api: Api) -> None:
    from urllib.parse import quote

    path = api.post(CONTEXTS, json={"@context": {"b": "https://example.org/b"}}).headers["location"]
    url = f"http://testserver{path}"
    r = api.get(f"{CONTEXTS}/{quote(url, safe='')}", params={"details": "true"}, token=None)
    assert r.status_code == 200, r.text
    assert r.json()["URL"] == url
    missing = api.get(f"{CONTEXTS}/{quote('http://127.0.0.1:9/none.jsonld', safe='')}", token=None)
    assert missing.status_code == 404
    assert api.delete(f"{CONTEXTS}/{quote(url, safe='')}").status_code == 204
    assert api.get(path, token=None).status_code == 404


# --- date-times ---------------------------------------------------------------------------------------


def test_date_times_come_back_as_sent(api: Api) -> None:
    e = {
        "id": "urn:ngsi-ld:AirQualityObserved:hp-1",
        "type": "AirQualityObserved",
        "pm25": {"type": "Property", "value": 35, "observedAt": "2026-11-21T08:00:00Z"},
        "no2": {"type": "Property", "value": 20, "observedAt": "2026-11-21T08:00:00.250Z"},
    }
    assert api.post("/ngsi-ld/v1/entities", json=e).status_code == 201
    base = f"/ngsi-ld/v1/entities/{e['id']}"
    got = api.get(base, params={"options": "sysAttrs"}).json()
    assert got["pm25"]["observedAt"] == "2026-11-21T08:00:00Z"
    assert got["no2"]["observedAt"] == "2026-11-21T08:00:00.250Z"
    for t in (got["createdAt"], got["pm25"]["modifiedAt"]):  # still ISO 8601 in UTC, whatever the clock said
        assert t.endswith("Z") and len(t) in (20, 24)
    history = api.get(f"/ngsi-ld/v1/temporal/entities/{e['id']}", params={"attrs": "pm25"}).json()
    assert [i["observedAt"] for i in history["pm25"]] == ["2026-11-21T08:00:00Z"]
    values = api.get(
        f"/ngsi-ld/v1/temporal/entities/{e['id']}", params={"attrs": "pm25", "options": "temporalValues"}
    ).json()
    assert values["pm25"]["values"] == [[35, "2026-11-21T08:00:00Z"]]
    # queries still compare times as times: a stored time of whole seconds is not "after" one with ms
    q = api.get(
        "/ngsi-ld/v1/entities", params={"type": "AirQualityObserved", "q": "pm25.observedAt<2026-11-21T08:00:00.100Z"}
    )
    assert [x["id"] for x in q.json()] == [e["id"]]
