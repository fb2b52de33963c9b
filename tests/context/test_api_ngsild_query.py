"""Causes of ETSI conformance failures in queries, fixed: ``orderBy`` (NGSI-LD v1.9, clause 4.23), a query by
ids alone refused (clause 5.7.2.4). On SQLite and PostgreSQL."""

from __future__ import annotations

import json
from typing import Any

import pytest
from conftest import Api

URL = "/ngsi-ld/v1/entities"


def building(n: int, name: str, sub: int) -> dict[str, Any]:
    return {
        "id": f"urn:ngsi-ld:Building:ob-{n}",
        "type": "Building",
        "name": {"type": "Property", "value": name, "subProperty": {"type": "Property", "value": sub}},
    }


@pytest.fixture
def three(api: Api) -> Api:
    # made in the order 2, 1, 3: storage (and createdAt) order differs from the names' order
    for n, name, sub in ((2, "B", 2), (1, "A", 1), (3, "C", 3)):
        assert api.post(URL, json=building(n, name, sub)).status_code == 201
    return api


def order(api: Api, order_by: str, **params: Any) -> list[int]:
    r = api.get(URL, params={"type": "Building", "orderBy": order_by, **params})
    assert r.status_code == 200, r.text
    return [int(e["id"].rsplit("-", 1)[1]) for e in r.json()]


@pytest.mark.parametrize(
    ("order_by", "expected"),
    [
        ("name", [1, 2, 3]),
        ("id", [1, 2, 3]),
        ("createdAt", [2, 1, 3]),
        ("name.createdAt", [2, 1, 3]),
        ("name.subProperty", [1, 2, 3]),
        ("name;asc", [1, 2, 3]),
        ("name;desc", [3, 2, 1]),
        ("type,name", [1, 2, 3]),
        ("type;asc,name.subProperty;desc,name;asc", [3, 2, 1]),
    ],
)
def test_order_by(three: Api, order_by: str, expected: list[int]) -> None:
    assert order(three, order_by) == expected


def test_order_by_comes_before_the_page(three: Api) -> None:
    assert order(three, "name;desc", limit=2) == [3, 2]
    assert order(three, "name;desc", limit=2, offset=2) == [1]
    r = three.get(URL, params={"type": "Building", "orderBy": "name", "limit": 1, "count": "true"})
    assert r.headers["NGSILD-Results-Count"] == "3"


def test_entities_without_the_member_come_last(three: Api) -> None:
    assert three.post(URL, json={"id": "urn:ngsi-ld:Building:ob-0", "type": "Building"}).status_code == 201
    assert order(three, "name") == [1, 2, 3, 0]
    assert order(three, "name;desc") == [3, 2, 1, 0]


@pytest.mark.parametrize("order_by", ["name;up", "name..sub", ",name"])
def test_a_malformed_order_by_is_bad_request_data(three: Api, order_by: str) -> None:
    r = three.get(URL, params={"type": "Building", "orderBy": order_by})
    assert r.status_code == 400
    assert r.json()["type"].endswith("BadRequestData")


def test_a_query_by_ids_alone_is_bad_request_data(three: Api) -> None:
    ids = "urn:ngsi-ld:Building:ob-1,urn:ngsi-ld:Building:ob-2"
    r = three.get(URL, params={"id": ids})
    assert r.status_code == 400
    assert r.json()["type"].endswith("BadRequestData")
    r = three.get(
        "/ngsi-ld/v1/temporal/entities", params={"id": ids, "timerel": "after", "timeAt": "2020-01-01T00:00:00Z"}
    )
    assert r.status_code == 400
    assert r.json()["type"].endswith("BadRequestData")
    assert len(three.get(URL, params={"id": ids, "type": "Building"}).json()) == 2


# --- replace one attribute (clause 5.6.19) ----------------------------------------------------------------


def test_replace_attribute_replaces_the_instance_and_keeps_its_created_at(three: Api) -> None:
    url = f"{URL}/urn:ngsi-ld:Building:ob-1"
    before = three.get(url, params={"options": "sysAttrs"}).json()["name"]
    r = three.put(f"{url}/attrs/name", json={"type": "Property", "value": "Z"})
    assert r.status_code == 204, r.text
    after = three.get(url, params={"options": "sysAttrs"}).json()["name"]
    assert after["value"] == "Z" and "subProperty" not in after  # replaced whole, not merged
    assert after["createdAt"] == before["createdAt"]


@pytest.mark.parametrize(
    ("entity", "attr", "status"),
    [
        ("invalidUri", "name", 400),
        ("urn:ngsi-ld:Building:nope", "name", 404),
        ("urn:ngsi-ld:Building:ob-1", "height", 404),
        ("urn:ngsi-ld:Building:ob-1", "scope", 400),
        ("urn:ngsi-ld:Building:ob-1", "@invalid", 400),
    ],
)
def test_replace_attribute_refuses(three: Api, entity: str, attr: str, status: int) -> None:
    r = three.put(f"{URL}/{entity}/attrs/{attr}", json={"type": "Property", "value": 1})
    assert r.status_code == status, r.text


# --- purge (clause 5.6.21) --------------------------------------------------------------------------------


def remaining(api: Api) -> list[int]:
    return order(api, "id")


def test_purge_by_type_and_by_q(three: Api) -> None:
    assert three.delete(URL, params={"type": "Building", "q": 'name=="B"'}).status_code == 204
    assert remaining(three) == [1, 3]
    assert three.delete(URL, params={"type": "Building"}).status_code == 204
    assert remaining(three) == []


def test_purge_keep_and_drop(three: Api) -> None:
    three.post(f"{URL}/urn:ngsi-ld:Building:ob-1/attrs", json={"height": {"type": "Property", "value": 30}})
    assert three.delete(URL, params={"type": "Building", "drop": "height"}).status_code == 204
    assert "height" not in three.get(f"{URL}/urn:ngsi-ld:Building:ob-1").json()
    assert (
        three.delete(URL, params={"type": "Building", "id": "urn:ngsi-ld:Building:ob-2", "keep": "x"}).status_code
        == 204
    )
    assert "name" not in three.get(f"{URL}/urn:ngsi-ld:Building:ob-2").json()
    assert "name" in three.get(f"{URL}/urn:ngsi-ld:Building:ob-3").json()


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"id": "urn:ngsi-ld:Building:ob-1"},
        {"idPattern": ".*"},
        {"attrs": "createdAt"},
        {"q": 'modifiedAt>"2020-01-01T00:00:00Z"'},
        {"type": "Building", "keep": "name", "drop": "height"},
    ],
)
def test_a_purge_too_wide_or_contradictory_is_bad_request_data(three: Api, params: dict[str, str]) -> None:
    r = three.delete(URL, params=params)
    assert r.status_code == 400, r.text
    assert r.json()["type"].endswith("BadRequestData")
    assert remaining(three) == [1, 2, 3]


def test_temporal_queries_are_ordered_by_id_only(three: Api) -> None:
    url = "/ngsi-ld/v1/temporal/entities"
    params = {"type": "Building", "timerel": "after", "timeAt": "2020-01-01T00:00:00Z"}
    r = three.get(url, params={**params, "orderBy": "id;desc"})
    assert r.status_code == 200, r.text
    assert [e["id"].rsplit("-", 1)[1] for e in r.json()] == ["3", "2", "1"]
    for order_by in ("name", "createdAt", "name.subProperty", "id,name"):
        r = three.get(url, params={**params, "orderBy": order_by})
        assert r.status_code == 400, order_by
        assert r.json()["type"].endswith("BadRequestData")


# --- batch 207 semantics (clauses 5.6.7, 5.6.9) -----------------------------------------------------------


def test_one_entity_with_a_wrong_context_fails_alone_in_a_batch_create(api: Api) -> None:
    ok = building(7, "G", 7)
    wrong = {**building(8, "H", 8), "@context": "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.9.jsonld"}
    r = api.post("/ngsi-ld/v1/entityOperations/create", json=[ok, wrong])  # sent as application/json
    assert r.status_code == 207, r.text
    assert r.json()["success"] == [ok["id"]]
    assert [e["entityId"] for e in r.json()["errors"]] == [wrong["id"]]
    assert r.json()["errors"][0]["error"]["type"].endswith("BadRequestData")
    r = api.post(
        "/ngsi-ld/v1/entityOperations/create",
        content=json.dumps([building(9, "I", 9)]),
        headers={"Content-Type": "application/ld+json"},
    )
    assert r.status_code == 207, r.text  # as application/ld+json without its @context
    assert r.json()["errors"][0]["error"]["type"].endswith("BadRequestData")


def test_batch_update_with_no_overwrite_is_207_when_an_attribute_is_kept(three: Api) -> None:
    url = "/ngsi-ld/v1/entityOperations/update"
    fresh = {"id": "urn:ngsi-ld:Building:ob-1", "height": {"type": "Property", "value": 30}}
    assert three.post(url, params={"options": "noOverwrite"}, json=[fresh]).status_code == 204
    kept = {"id": "urn:ngsi-ld:Building:ob-2", "name": {"type": "Property", "value": "Q"}}
    other = {"id": "urn:ngsi-ld:Building:ob-3", "height": {"type": "Property", "value": 12}}
    r = three.post(url, params={"options": "noOverwrite"}, json=[kept, other])
    assert r.status_code == 207, r.text
    assert [e["entityId"] for e in r.json()["errors"]] == [kept["id"]]
    assert three.get(f"{URL}/urn:ngsi-ld:Building:ob-2").json()["name"]["value"] == "B"


# --- types and scope in append, update and delete (clauses 5.6.2, 5.6.3, 5.6.5) --------------------------


def test_update_attrs_adds_types(three: Api) -> None:
    url = f"{URL}/urn:ngsi-ld:Building:ob-1"
    assert three.patch(f"{url}/attrs", json={"type": ["Vehicle", "Building"]}).status_code == 204
    assert three.get(url).json()["type"] == ["Building", "Vehicle"]


def test_scope_replaced_appended_and_deleted(three: Api) -> None:
    url = f"{URL}/urn:ngsi-ld:Building:ob-1"
    r = three.patch(f"{url}/attrs", json={"scope": "/Huangpu/Bund"})
    assert r.status_code == 207, r.text  # no scope to update
    assert "scope" not in three.get(url).json()
    assert three.post(f"{url}/attrs", json={"scope": "/Huangpu/Bund"}).status_code == 204
    assert three.patch(f"{url}/attrs", json={"scope": "/Huangpu/Nanjing"}).status_code == 204
    assert three.get(url).json()["scope"] == "/Huangpu/Nanjing"
    assert (
        three.post(f"{url}/attrs", params={"options": "noOverwrite"}, json={"scope": "/Huangpu/Bund"}).status_code
        == 204
    )
    assert three.get(url).json()["scope"] == ["/Huangpu/Nanjing", "/Huangpu/Bund"]
    assert three.delete(f"{url}/attrs/scope").status_code == 204
    assert "scope" not in three.get(url).json()
    assert three.delete(f"{url}/attrs/scope").status_code == 404


# --- the datasetId filter of reads (clause 4.5.5) ---------------------------------------------------------


def test_dataset_id_shows_only_those_instances(api: Api) -> None:
    ds = "urn:ngsi-ld:Dataset:fr"
    entity = {
        "id": "urn:ngsi-ld:Building:ds-1",
        "type": "Building",
        "name": [{"type": "Property", "value": "Bund"}, {"type": "Property", "value": "Quai", "datasetId": ds}],
        "floors": {"type": "Property", "value": 7},
    }
    assert api.post(URL, json=entity).status_code == 201
    doc = api.get(URL, params={"type": "Building", "datasetId": ds}).json()[0]
    assert doc["name"] == {"type": "Property", "value": "Quai", "datasetId": ds} and "floors" not in doc
    doc = api.get(URL, params={"type": "Building", "datasetId": "@none", "attrs": "name"}).json()[0]
    assert doc["name"] == {"type": "Property", "value": "Bund"}
    doc = api.get(URL, params={"type": "Building", "datasetId": "urn:ngsi-ld:Dataset:es"}).json()[0]
    assert set(doc) == {"id", "type"}
    doc = api.get(f"{URL}/urn:ngsi-ld:Building:ds-1", params={"datasetId": ds}).json()
    assert doc["name"]["value"] == "Quai"


def test_a_partial_update_of_another_attribute_type_is_bad_request_data(three: Api) -> None:
    url = f"{URL}/urn:ngsi-ld:Building:ob-1/attrs/name"
    r = three.patch(url, json={"type": "Relationship", "object": "urn:ngsi-ld:City:sh"})
    assert r.status_code == 400, r.text
    assert r.json()["type"].endswith("BadRequestData")
    assert three.patch(url, json={"type": "Property", "value": "Y"}).status_code == 204
    assert three.patch(url, json={"value": "X"}).status_code == 204
