"""Linked entity retrieval over HTTP (NGSI-LD v1.8, clause 4.5.23): ``join=inline|flat`` and ``joinLevel`` on
GET /entities, GET /entities/{id} and POST /entityOperations/query, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import Api

E = "/ngsi-ld/v1/entities"
B, C, F, G = "urn:ngsi-ld:Building:1", "urn:ngsi-ld:City:Paris", "urn:ngsi-ld:Country:France", "urn:ngsi-ld:Park:1"


def rel(target: str) -> dict[str, str]:
    return {"type": "Relationship", "object": target}


def prop(value: Any) -> dict[str, Any]:
    return {"type": "Property", "value": value}


@pytest.fixture
def linked(api: Api) -> Api:
    docs = [
        {"id": B, "type": "Building", "name": prop("Tower"), "locatedAt": rel(C),
         "nearby": {"type": "ListRelationship", "objectList": [G, "urn:ngsi-ld:Park:absent"]}},
        {"id": C, "type": "City", "name": prop("Paris"), "description": prop("capital"), "isInCountry": rel(F)},
        {"id": F, "type": "Country", "name": prop("France"), "partOf": rel(F)},  # a cycle: links to itself
        {"id": G, "type": "Park", "name": prop("Monceau"), "locatedAt": rel(C)},
    ]  # fmt: skip
    for doc in docs:
        assert api.post(E, json=doc).status_code == 201
    return api


def test_inline_puts_the_target_in_the_relationship_one_level_by_default(linked: Api) -> None:
    r = linked.get(f"{E}/{B}", params={"join": "inline"})
    assert r.status_code == 200, r.text
    doc = r.json()
    city = doc["locatedAt"]["entity"]
    assert city["id"] == C and city["name"]["value"] == "Paris"
    assert city["isInCountry"] == rel(F)  # joinLevel 1: the country is not fetched
    parks = doc["nearby"]["entityList"]
    assert [p["id"] for p in parks] == [G]  # the absent target is left out, the objectList kept whole
    assert doc["nearby"]["objectList"] == [{"object": G}, {"object": "urn:ngsi-ld:Park:absent"}]
    assert "entity" not in parks[0]["locatedAt"]


def test_join_level_two_follows_the_targets_relationships_and_stops_at_a_cycle(linked: Api) -> None:
    doc = linked.get(f"{E}/{B}", params={"join": "inline", "joinLevel": "3"}).json()
    country = doc["locatedAt"]["entity"]["isInCountry"]["entity"]
    assert country["id"] == F and country["name"]["value"] == "France"
    assert country["partOf"] == rel(F)  # already on the path: not inlined again
    two = linked.get(f"{E}/{B}", params={"join": "inline", "joinLevel": "2"}).json()
    assert "entity" not in two["locatedAt"]["entity"]["isInCountry"]["entity"]["partOf"]


def test_flat_lists_each_linked_entity_once_after_the_entity(linked: Api) -> None:
    r = linked.get(f"{E}/{B}", params={"join": "flat", "joinLevel": "2"})
    assert r.status_code == 200, r.text
    docs = r.json()
    ids = [d["id"] for d in docs]  # level by level; within a level, in the stored order of the attributes
    assert ids[0] == B and set(ids[1:3]) == {C, G} and ids[3:] == [F]  # the city once, though two name it
    assert "entity" not in docs[0]["locatedAt"]
    simple = linked.get(f"{E}/{B}", params={"join": "flat", "options": "keyValues"}).json()
    city = {"id": C, "type": "City", "name": "Paris", "description": "capital", "isInCountry": F}
    assert simple[0]["locatedAt"] == C and city in simple[1:] and len(simple) == 3
    # nothing to link: the entity alone, as an object
    lone = linked.get(f"{E}/{F}", params={"join": "flat", "pick": "id,name"}).json()
    assert lone == {"id": F, "name": prop("France")}


def test_inline_simplified_and_concise(linked: Api) -> None:
    doc = linked.get(f"{E}/{B}", params={"join": "inline", "options": "keyValues"}).json()
    assert doc["locatedAt"] == {"id": C, "type": "City", "name": "Paris", "description": "capital", "isInCountry": F}
    assert [p["id"] for p in doc["nearby"]] == [G]
    concise = linked.get(f"{E}/{B}", params={"join": "inline", "format": "concise"}).json()
    assert concise["locatedAt"]["object"] == C and concise["locatedAt"]["entity"]["name"] == "Paris"


def test_pick_and_omit_project_the_linked_entities(linked: Api) -> None:
    picked = linked.get(f"{E}/{B}", params={"join": "inline", "joinLevel": "2", "pick": "id,locatedAt{id,name}"})
    assert picked.json() == {"id": B, "locatedAt": {**rel(C), "entity": {"id": C, "name": prop("Paris")}}}
    flat = linked.get(f"{E}/{B}", params={"join": "flat", "joinLevel": "2",
                                          "pick": "id,locatedAt{id,isInCountry{name}}"})  # fmt: skip
    assert flat.json() == [{"id": B, "locatedAt": rel(C)}, {"id": C, "isInCountry": rel(F)}, {"name": prop("France")}]
    omitted = linked.get(
        f"{E}/{B}", params={"join": "inline", "omit": "type,nearby,locatedAt{description,isInCountry}"}
    )
    city = {"id": C, "type": "City", "name": prop("Paris")}
    assert omitted.json() == {"id": B, "name": prop("Tower"), "locatedAt": {**rel(C), "entity": city}}


def test_queries_join_too_and_count_only_the_matches(linked: Api) -> None:
    params = {"type": "Building,Park", "join": "inline", "count": "true", "options": "sysAttrs"}
    r = linked.get(E, params=params)
    assert r.status_code == 200 and r.headers["NGSILD-Results-Count"] == "2", r.text
    assert [d["locatedAt"]["entity"]["id"] for d in r.json()] == [C, C]
    assert "createdAt" in r.json()[0]["locatedAt"]["entity"]
    flat = linked.get(E, params={"type": "Building,Park", "join": "flat"}).json()
    assert [d["id"] for d in flat] == [B, G, C]  # the park is an answer already: listed once
    query = {"type": "Query", "entities": [{"type": "Park"}], "join": "inline", "joinLevel": 2}
    found = linked.post("/ngsi-ld/v1/entityOperations/query", json=query)
    assert found.status_code == 200, found.text
    assert found.json()[0]["locatedAt"]["entity"]["isInCountry"]["entity"]["id"] == F


def test_another_tenants_entity_is_not_joined(linked: Api) -> None:
    other = {"NGSILD-Tenant": "huangpu"}
    doc = {"id": "urn:ngsi-ld:Building:2", "type": "Building", "locatedAt": rel(C)}
    assert linked.post(E, json=doc, headers=other).status_code == 201
    r = linked.get(f"{E}/urn:ngsi-ld:Building:2", params={"join": "inline"}, headers=other)
    assert r.status_code == 200 and r.json()["locatedAt"] == rel(C), r.text


@pytest.mark.parametrize(
    "params",
    [
        {"join": "deep"},
        {"join": "inline", "joinLevel": "0"},
        {"join": "flat", "joinLevel": "two"},
        {"join": "inline", "joinLevel": "11"},
    ],
)
def test_an_unknown_join_or_a_bad_level_is_refused(linked: Api, params: dict[str, str]) -> None:
    for url in (f"{E}/{B}", E):
        r = linked.get(url, params={"type": "Building", **params} if url == E else params)
        assert r.status_code == 400, r.text
        assert r.json()["type"] == "https://uri.etsi.org/ngsi-ld/errors/BadRequestData"
        assert "join" in r.json()["detail"]


def test_join_none_answers_as_stored(linked: Api) -> None:
    assert linked.get(f"{E}/{B}", params={"join": "@none"}).json()["locatedAt"] == rel(C)
