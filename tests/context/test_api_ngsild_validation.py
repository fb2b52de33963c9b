"""Validation the ETSI conformance suite found too lax, fixed to NGSI-LD v1.8: the pick/omit projection
language (clause 4.21), a query parameter an operation does not define (6.3.20), an entity id left out of
the path, a body that is not an entity, a type that is a JSON-LD keyword. On SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import Api

from cityos.context.errors import BadRequestData
from cityos.context.projection import check_pick_omit, parse_projection

EID = "urn:ngsi-ld:Building:hp-bund-2"
BASE = f"/ngsi-ld/v1/entities/{EID}"
ERR = "https://uri.etsi.org/ngsi-ld/errors/"


def building() -> dict[str, Any]:
    return {
        "id": EID,
        "type": "Building",
        "name": {"type": "Property", "value": "外滩二号"},
        "floors": {"type": "Property", "value": 5},
        "speed": {"type": "Property", "value": 1, "observedAt": "2026-12-01T08:00:00Z"},
        "locatedAt": {"type": "Relationship", "object": "urn:ngsi-ld:City:shanghai"},
    }


@pytest.fixture
def stored(api: Api) -> Api:
    assert api.post("/ngsi-ld/v1/entities", json=building()).status_code == 201
    return api


def problem(r: Any, status: int, kind: str) -> str:
    assert r.status_code == status, r.text
    body = r.json()
    assert body["type"] == ERR + kind, body
    assert body.get("title")
    return str(body.get("detail", ""))


# --- the projection language ------------------------------------------------------------------------


def test_projection_parses_members_and_linked_entity_projections() -> None:
    p = parse_projection("id,name,locatedAt{id,name,isInCountry{id}}")
    assert p.names() == ["id", "name", "locatedAt"]
    linked = p.members["locatedAt"]
    assert linked is not None and linked.names() == ["id", "name", "isInCountry"]
    assert linked.members["isInCountry"] is not None and linked.members["isInCountry"].names() == ["id"]
    assert p.members["name"] is None


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("id;name", "not a member name"),
        ("id,locatedAt{name", "not closed"),
        ("id,locatedAt{{name}", "missing"),
        ("id,,name", "missing"),
        ("id,locatedAt{,name}", "missing"),
        ("id,locatedAt{}", "holds no member"),
        ("id}", "never opened"),
        ("name,name", "named twice"),
        ("name,", "missing at the end"),
    ],
)
def test_malformed_projections_are_refused_with_the_fault_named(text: str, why: str) -> None:
    with pytest.raises(BadRequestData) as info:
        parse_projection(text)
    assert why in info.value.detail


def test_pick_and_omit_of_one_member_or_with_attrs_are_refused() -> None:
    with pytest.raises(BadRequestData, match="both picked and omitted"):
        check_pick_omit("id,name", "name", None)
    with pytest.raises(BadRequestData, match="not both"):
        check_pick_omit("name", None, ["floors"])
    with pytest.raises(BadRequestData, match="not both"):
        check_pick_omit(None, "name", ["floors"])
    picked, omitted = check_pick_omit("id,name", "floors", None)
    assert picked is not None and omitted is not None and picked.names() == ["id", "name"]


# --- pick / omit over HTTP ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "params",
    [
        {"pick": "name", "omit": "name"},
        {"pick": "name", "attrs": "floors"},
        {"omit": "name", "attrs": "floors"},
        {"pick": "id;name"},
        {"pick": "id,locatedAt{name"},
        {"pick": "id,,name"},
        {"pick": "id,locatedAt{}"},
    ],
)
def test_retrieve_and_query_refuse_bad_pick_omit(stored: Api, params: dict[str, str]) -> None:
    problem(stored.get(BASE, params=params), 400, "BadRequestData")
    problem(stored.get("/ngsi-ld/v1/entities", params={"type": "Building", **params}), 400, "BadRequestData")
    temporal = stored.get(f"/ngsi-ld/v1/temporal/entities/{EID}", params=params)
    problem(temporal, 400, "BadRequestData")


def test_pick_of_no_member_is_not_found_and_empty_entities_are_left_out(stored: Api) -> None:
    problem(stored.get(BASE, params={"pick": "unknown"}), 404, "ResourceNotFound")
    problem(stored.get(BASE, params={"omit": "id,type,name,floors,speed,locatedAt"}), 404, "ResourceNotFound")
    other = {"id": "urn:ngsi-ld:Building:hp-bund-3", "type": "Building", "floors": {"type": "Property", "value": 2}}
    assert stored.post("/ngsi-ld/v1/entities", json=other).status_code == 201
    found = stored.get("/ngsi-ld/v1/entities", params={"type": "Building", "pick": "name"}).json()
    assert found == [{"name": {"type": "Property", "value": "外滩二号"}}]  # not a {} for the one without a name
    assert stored.get(BASE, params={"pick": "id,name"}).json() == {
        "id": EID,
        "name": {"type": "Property", "value": "外滩二号"},
    }


def test_temporal_retrieve_honours_pick_and_omit(stored: Api) -> None:
    r = stored.get(f"/ngsi-ld/v1/temporal/entities/{EID}", params={"pick": "speed"})
    assert r.status_code == 200, r.text
    assert set(r.json()) == {"speed"}
    r = stored.get(f"/ngsi-ld/v1/temporal/entities/{EID}", params={"omit": "type,speed"})
    assert r.status_code == 200, r.text
    assert "type" not in r.json() and "speed" not in r.json() and r.json()["id"] == EID


# --- parameters, paths and bodies ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "kwargs"),
    [
        ("GET", "/ngsi-ld/v1/entities", {"params": {"type": "Building", "tpye": "Vehicle"}}),
        ("GET", BASE, {"params": {"atrs": "name"}}),
        ("POST", "/ngsi-ld/v1/entities", {"params": {"invalidParams": "x"}, "json": building()}),
        ("GET", "/ngsi-ld/v1/types", {"params": {"invalidParams": "x"}}),
        ("GET", "/ngsi-ld/v1/subscriptions", {"params": {"invalidParams": "x"}}),
    ],
)
def test_a_query_parameter_the_operation_does_not_define_is_refused(
    stored: Api, method: str, path: str, kwargs: dict[str, Any]
) -> None:
    detail = problem(stored.request(method, path, **kwargs), 400, "InvalidRequest")
    assert "unknown query parameter" in detail


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/ngsi-ld/v1/entities//attrs"),
        ("PATCH", "/ngsi-ld/v1/entities//attrs"),
        ("PATCH", "/ngsi-ld/v1/entities//attrs/speed"),
        ("DELETE", "/ngsi-ld/v1/entities//attrs/speed"),
        ("PUT", "/ngsi-ld/v1/entities/"),
        ("PATCH", "/ngsi-ld/v1/entities/"),
        ("POST", "/ngsi-ld/v1/temporal/entities//attrs"),
        ("DELETE", "/ngsi-ld/v1/temporal/entities//attrs/speed"),
    ],
)
def test_an_entity_id_left_out_of_the_path_is_bad_request_data(api: Api, method: str, path: str) -> None:
    r = api.request(method, path, json={"speed": {"type": "Property", "value": 1}})
    assert "names no entity" in problem(r, 400, "BadRequestData")


def test_the_collection_paths_still_answer(stored: Api) -> None:
    assert stored.get("/ngsi-ld/v1/entities", params={"type": "Building"}).status_code == 200
    assert stored.delete("/ngsi-ld/v1/temporal/entities/").status_code == 405  # the collection: no DELETE
    r = stored.get("/ngsi-ld/v1/entities/", params={"type": "Building"}, follow_redirects=True)
    assert r.status_code == 200, r.text


def test_a_body_that_is_no_entity_is_invalid_and_a_keyword_is_no_type(api: Api) -> None:
    problem(api.post("/ngsi-ld/v1/entities", json=[]), 400, "InvalidRequest")
    r = api.post("/ngsi-ld/v1/entities", json={"id": "urn:ngsi-ld:Building:kw", "type": "type"})
    assert "JSON-LD keyword" in problem(r, 400, "BadRequestData")


def test_the_type_and_attribute_lists_answer_with_a_trailing_slash(stored: Api) -> None:
    r = stored.get("/ngsi-ld/v1/types/", params={"details": "false"})
    assert r.status_code == 200, r.text
    assert r.json()["typeList"] == ["Building"]
    r = stored.get("/ngsi-ld/v1/types/", params={"details": "true"})
    assert [t["typeName"] for t in r.json()] == ["Building"]
    r = stored.get("/ngsi-ld/v1/attributes/")
    assert r.status_code == 200, r.text
    assert "floors" in r.json()["attributeList"]


def test_local_true_queries_every_entity_and_id_is_no_attribute(stored: Api) -> None:
    problem(stored.get("/ngsi-ld/v1/entities"), 400, "BadRequestData")  # no filter: still refused
    r = stored.get("/ngsi-ld/v1/entities", params={"local": "true"})
    assert r.status_code == 200, r.text
    assert [e["id"] for e in r.json()] == [EID]
    detail = problem(stored.get("/ngsi-ld/v1/entities", params={"attrs": "id,type"}), 400, "BadRequestData")
    assert "not an attribute" in detail


@pytest.mark.parametrize(
    "attrs",
    [
        {"datasetId": {"type": "Property", "value": 1}},
        {"instanceId": {"type": "Property", "value": 1}},
        {"observedAt": {"type": "Property", "value": "2026-01-01T00:00:00Z"}},
        {"speed": {"type": "Property", "value": 1, "@context": {"speed": "https://example.org/speed"}}},
    ],
)
def test_core_member_names_and_an_inner_context_are_no_attributes(api: Api, attrs: dict[str, Any]) -> None:
    body = {"id": "urn:ngsi-ld:Vehicle:core-names", "type": "Vehicle", **attrs}
    problem(api.post("/ngsi-ld/v1/entities", json=body), 400, "BadRequestData")
