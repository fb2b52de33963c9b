"""Causes of ETSI conformance failures in common behaviours and entity consumption, fixed: the media type an
Accept header selects (NGSI-LD v1.8, clause 6.3.4, with RFC 9110 weights), GeoJSON only where offered and its
@context (clause 6.3.6, ``Prefer: body=json``), ``geometryProperty`` (clause 6.3.15), the ``type`` selector
of operations on one entity (clause 4.17), ``scopeQ`` (clause 4.19). On SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import Api

from cityos.context.api.ld import GEOJSON, JSON, JSONLD, negotiate
from cityos.context.errors import InvalidRequest
from cityos.context.qlang import parse_scope_q
from cityos.context.sqlq import scope_pattern
from cityos.errors import NotAcceptable

URL = "/ngsi-ld/v1/entities"
CORE = "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.9.jsonld"
EID = "urn:ngsi-ld:Building:cb-1"


@pytest.mark.parametrize(
    ("accept", "geojson", "chosen"),
    [
        (None, True, JSON),
        ("*/*", True, JSON),
        ("application/*", True, JSON),
        ("application/ld+json, application/json", True, JSON),  # equal weights: the list of 6.3.4 decides
        ("application/geo+json, application/json", True, JSON),
        ("application/json;q=0.1, application/ld+json;q=0.9", True, JSONLD),
        ("application/ld+json", True, JSONLD),
        ("application/json;q=0, */*", True, JSONLD),  # the exact range outranks the wildcard's weight
        ("application/json;q=0, application/ld+json", True, JSONLD),
        ("*/*;q=0.9, application/ld+json;q=0.8", True, JSON),
        ("application/ld+json;q=notanumber", True, JSONLD),  # a malformed weight is no weight
        ("application/geo+json", True, GEOJSON),
        ("application/geo+json, application/json", False, JSON),
        ("application/geo+json;q=0.9, application/ld+json;q=0.1", False, JSONLD),
    ],
)
def test_accept_selects_the_representation(accept: str | None, geojson: bool, chosen: str) -> None:
    assert negotiate(accept, allow_geojson=geojson) == chosen


@pytest.mark.parametrize(("accept", "geojson"), [("application/xml", True), ("application/geo+json", False)])
def test_accept_naming_nothing_offered_is_406(accept: str, geojson: bool) -> None:
    with pytest.raises(NotAcceptable):
        negotiate(accept, allow_geojson=geojson)


def building(**extra: Any) -> dict[str, Any]:
    return {
        "id": EID,
        "type": "Building",
        "name": {"type": "Property", "value": "x"},
        "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [121.49, 31.24]}},
        "observationSpace": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [121.5, 31.2]}},
        **extra,
    }


@pytest.fixture
def stored(api: Api) -> Api:
    assert api.post(URL, json=building(scope="/Madrid/Gardens")).status_code == 201
    return api


def test_geojson_is_offered_on_entity_reads_only(stored: Api) -> None:
    geo = {"Accept": GEOJSON}
    assert stored.get(f"{URL}/{EID}", headers=geo).status_code == 200
    assert stored.get(URL, params={"type": "Building"}, headers=geo).status_code == 200
    assert stored.get("/ngsi-ld/v1/subscriptions", headers=geo).status_code == 406
    temporal = stored.get("/ngsi-ld/v1/temporal/entities", params={"type": "Building"}, headers=geo)
    assert temporal.status_code == 406
    both = stored.get("/ngsi-ld/v1/subscriptions", headers={"Accept": "application/geo+json, application/json"})
    assert both.status_code == 200 and both.headers["content-type"].startswith(JSON)


def test_geojson_carries_its_context_in_the_body_unless_prefer_body_json(stored: Api) -> None:
    one = stored.get(f"{URL}/{EID}", headers={"Accept": GEOJSON})
    assert one.json()["@context"] == CORE and one.json()["type"] == "Feature"
    many = stored.get(URL, params={"type": "Building"}, headers={"Accept": GEOJSON})
    assert many.json()["@context"] == CORE and many.json()["type"] == "FeatureCollection"
    linked = stored.get(URL, params={"type": "Building"}, headers={"Accept": GEOJSON, "Prefer": "body=json"})
    assert "@context" not in linked.json() and CORE in linked.headers["Link"]


def test_geometry_property_chooses_the_geometry_with_geojson_only(stored: Api) -> None:
    geo = {"Accept": GEOJSON}
    url = f"{URL}/{EID}"
    assert stored.get(url, headers=geo).json()["geometry"]["coordinates"] == [121.49, 31.24]
    chosen = stored.get(url, params={"geometryProperty": "observationSpace"}, headers=geo).json()
    assert chosen["geometry"]["coordinates"] == [121.5, 31.2]
    assert stored.get(url, params={"geometryProperty": "operationSpace"}, headers=geo).json()["geometry"] is None
    many = stored.get(URL, params={"type": "Building", "geometryProperty": "observationSpace"}, headers=geo).json()
    assert many["features"][0]["geometry"]["coordinates"] == [121.5, 31.2]
    for where, params in ((url, {}), (URL, {"type": "Building"})):
        r = stored.get(where, params={**params, "geometryProperty": "location"}, headers={"Accept": JSONLD})
        assert r.status_code == 400 and r.json()["type"].endswith("/BadRequestData"), r.text


def test_type_selector_narrows_the_target_entity(stored: Api) -> None:
    url = f"{URL}/{EID}"
    assert stored.get(url, params={"type": "Vehicle"}).status_code == 404
    assert stored.get(url, params={"type": "Building"}).status_code == 200
    assert stored.get(url, params={"type": "Vehicle|Building"}).status_code == 200
    fragment = {"name": {"type": "Property", "value": "y"}}
    assert stored.patch(f"{url}/attrs", params={"type": "Vehicle"}, json=fragment).status_code == 404
    assert stored.post(f"{url}/attrs", params={"type": "Vehicle"}, json=fragment).status_code == 404
    assert stored.patch(f"{url}/attrs/name", params={"type": "Vehicle"}, json={"value": "y"}).status_code == 404
    assert stored.delete(f"{url}/attrs/name", params={"type": "Vehicle"}).status_code == 404
    assert stored.delete(url, params={"type": "Vehicle"}).status_code == 404
    assert stored.get(url).json()["name"]["value"] == "x"  # nothing changed
    assert stored.patch(f"{url}/attrs", params={"type": "Building"}, json=fragment).status_code == 204
    assert stored.get(url).json()["name"]["value"] == "y"
    assert stored.delete(url, params={"type": "Building"}).status_code == 204


def test_scope_is_not_partially_updated(stored: Api) -> None:
    r = stored.patch(f"{URL}/{EID}/attrs/scope", json={"value": "/Barcelona"})
    assert r.status_code == 400 and r.json()["type"].endswith("/BadRequestData")
    assert stored.get(f"{URL}/{EID}").json()["scope"] == "/Madrid/Gardens"


@pytest.mark.parametrize(
    ("scope", "pattern"),
    [
        ("/Madrid/Gardens", None),
        ("/Madrid/+/ParqueNorte", "^/Madrid/[^/]+/ParqueNorte$"),
        ("/CompanyA/#", "^/CompanyA(/.*)?$"),
        ("/#", "^/.+$"),
    ],
)
def test_scope_patterns(scope: str, pattern: str | None) -> None:
    assert scope_pattern(scope) == pattern


@pytest.mark.parametrize("text", ["Madrid", "/Madrid//Gardens", "/Madrid/#/Gardens", "/Mad#", "(/a", "/a;"])
def test_malformed_scope_q_is_refused(text: str) -> None:
    with pytest.raises(InvalidRequest):
        parse_scope_q(text)


@pytest.mark.parametrize(
    ("scope_q", "expected"),
    [
        ("/Madrid/Gardens/ParqueNorte", {"one", "many"}),
        ("/Madrid/+/ParqueNorte", {"one", "many"}),
        ("/CompanyA/#", {"many"}),
        ("/CompanyA", set()),  # a scope without # is that scope only
        ("/#", {"one", "many"}),
        ("/Madrid/Gardens/ParqueNorte;/CompanyA/OrganizationB/UnitC", {"many"}),
        ("(/Madrid/Gardens/ParqueNorte;/Nowhere)", set()),
        ("/Madrid/Gardens/ParqueNorte,/CompanyA/OrganizationB/UnitC", {"one", "many"}),
        ("/CompanyA/OrganizationB/UnitC|/Nowhere", {"many"}),
        ("(/Madrid/Gardens/ParqueNorte;/CompanyA/OrganizationB/UnitC)|/Madrid/Gardens/ParqueNorte", {"one", "many"}),
    ],
)
def test_scope_q_selects_entities_by_scope(api: Api, scope_q: str, expected: set[str]) -> None:
    scopes = {
        "one": "/Madrid/Gardens/ParqueNorte",
        "many": ["/Madrid/Gardens/ParqueNorte", "/CompanyA/OrganizationB/UnitC"],
        "none": None,
    }
    for name, scope in scopes.items():
        entity = {"id": f"urn:ngsi-ld:Park:{name}", "type": "Park"} | ({"scope": scope} if scope else {})
        assert api.post(URL, json=entity).status_code == 201
    r = api.get(URL, params={"type": "Park", "scopeQ": scope_q})
    assert r.status_code == 200, r.text
    assert {e["id"].rsplit(":", 1)[1] for e in r.json()} == expected
    body = {"type": "Query", "entities": [{"type": "Park"}], "scopeQ": scope_q}
    posted = api.post("/ngsi-ld/v1/entityOperations/query", json=body)
    assert {e["id"].rsplit(":", 1)[1] for e in posted.json()} == expected


def test_query_post_takes_each_entity_selector_as_a_whole(api: Api) -> None:
    for kind, n in (("Building", 1), ("Building", 2), ("Building", 3), ("Vehicle", 4)):
        assert api.post(URL, json={"id": f"urn:ngsi-ld:{kind}:sel-{n}", "type": kind}).status_code == 201
    selectors = [
        {"id": "urn:ngsi-ld:Building:sel-1", "type": "Building"},
        {"id": "urn:ngsi-ld:Building:sel-2", "type": "Building"},
        {"id": "urn:ngsi-ld:Building:sel-3", "type": "Vehicle"},  # the id of a Building: no match
        {"idPattern": "sel-4$", "type": "Vehicle"},
    ]
    r = api.post("/ngsi-ld/v1/entityOperations/query", json={"type": "Query", "entities": selectors})
    assert r.status_code == 200, r.text
    assert sorted(e["id"] for e in r.json()) == [
        "urn:ngsi-ld:Building:sel-1",
        "urn:ngsi-ld:Building:sel-2",
        "urn:ngsi-ld:Vehicle:sel-4",
    ]


def test_partial_update_with_sub_attributes_only_keeps_the_attribute(api: Api) -> None:
    vehicle = {
        "id": "urn:ngsi-ld:Vehicle:pu-1",
        "type": "Vehicle",
        "isParked": {
            "type": "Relationship",
            "object": "urn:ngsi-ld:OffStreetParking:Downtown1",
            "providedBy": {"type": "Relationship", "object": "urn:ngsi-ld:Person:Bob"},
        },
    }
    assert api.post(URL, json=vehicle).status_code == 201
    fragment = {"providedBy": {"type": "Relationship", "object": "urn:ngsi-ld:Person:JohnDoe"}}
    r = api.patch(f"{URL}/{vehicle['id']}/attrs/isParked", json=fragment)
    assert r.status_code == 204, r.text
    got = api.get(f"{URL}/{vehicle['id']}").json()["isParked"]
    assert got["type"] == "Relationship" and got["object"] == "urn:ngsi-ld:OffStreetParking:Downtown1"
    assert got["providedBy"] == {"type": "Relationship", "object": "urn:ngsi-ld:Person:JohnDoe"}


def test_multi_status_names_follow_the_context_the_answer_names(api: Api) -> None:
    ctx = {"speed": "https://example.org/ns#speed"}
    vehicle = {"id": "urn:ngsi-ld:Vehicle:ms-1", "type": "Vehicle", "speed": {"type": "Property", "value": 1}}
    assert api.post(URL, json={**vehicle, "@context": [ctx, CORE]}, headers={"Content-Type": JSONLD}).status_code == 201
    fragment = {"speed": {"type": "Property", "value": 2}, "added": {"type": "Property", "value": 3}}
    url = f"{URL}/{vehicle['id']}/attrs"
    r = api.post(
        url,
        params={"options": "noOverwrite"},
        json={**fragment, "@context": [ctx, CORE]},
        headers={"Content-Type": JSONLD},
    )
    assert r.status_code == 207, r.text
    # a JSON answer: its Link header names the core context, so the names are compacted with it
    assert CORE in r.headers["Link"]
    assert r.json()["notUpdated"][0]["attributeName"] == "https://example.org/ns#speed"
    assert r.json()["updated"] == ["added"]
    ld = api.post(
        url,
        params={"options": "noOverwrite"},
        json={**fragment, "@context": [ctx, CORE]},
        headers={"Content-Type": JSONLD, "Accept": JSONLD},
    )
    assert ld.json()["notUpdated"][0]["attributeName"] == "speed"  # the request's @context, in the body


def test_query_post_members_and_refusals(api: Api) -> None:
    for n, speed in ((1, 120), (2, 40)):
        v = {"id": f"urn:ngsi-ld:Vehicle:qp-{n}", "type": "Vehicle", "speed": speed, "brand": "Mercedes"}
        assert api.post(URL, json=v).status_code == 201
    query = "/ngsi-ld/v1/entityOperations/query"
    picked = api.post(query, json={"type": "Query", "entities": [{"type": "Vehicle"}], "pick": ["speed"]})
    assert picked.status_code == 200 and all(set(e) == {"speed"} for e in picked.json()), picked.text
    omitted = api.post(query, json={"type": "Query", "entities": [{"type": "Vehicle"}], "omit": ["speed"]})
    assert all("speed" not in e and "brand" in e for e in omitted.json())
    for bad in (
        {"attrs": []},
        {"temporalQ": {"timerel": "after", "timeAt": "2020-01-01T00:00:00Z"}},
        {"pick": []},
    ):
        r = api.post(query, json={"type": "Query", "entities": [{"type": "Vehicle"}], **bad})
        assert r.status_code == 400 and r.json()["type"].endswith("/BadRequestData"), (bad, r.text)


def test_type_wildcard_selects_every_type(api: Api) -> None:
    for kind in ("Building", "Vehicle"):
        assert api.post(URL, json={"id": f"urn:ngsi-ld:{kind}:all-1", "type": kind}).status_code == 201
    r = api.get(URL, params={"type": "*"})
    assert r.status_code == 200, r.text
    assert {"urn:ngsi-ld:Building:all-1", "urn:ngsi-ld:Vehicle:all-1"} <= {e["id"] for e in r.json()}


def test_q_on_a_language_and_no_ordering_of_relationships(api: Api) -> None:
    car = {
        "id": "urn:ngsi-ld:Car:lq-1",
        "type": "Car",
        "color": {"type": "LanguageProperty", "languageMap": {"en": "red", "fr": "rouge"}},
        "managedBy": {"type": "Relationship", "object": "urn:b"},
    }
    assert api.post(URL, json=car).status_code == 201

    def count(q: str) -> int:
        r = api.get(URL, params={"type": "Car", "q": q})
        assert r.status_code == 200, r.text
        return len(r.json())

    assert count('color[en]=="red"') == 1
    assert count('color[en]=="rouge"') == 0
    assert count("color[fr]") == 1 and count("color[de]") == 0
    assert count('managedBy>"urn:a"') == 0  # an ordering operator on a Relationship never matches
    assert count('managedBy=="urn:b"') == 1


@pytest.mark.parametrize("codepoint", [0x202E, 0x200B, 0xFEFF, 0xFE0F, 0xE0100, 0xFDD0, 0xFFFE, 0x3164, 0x2800])
def test_ids_with_invisible_characters_are_refused(api: Api, codepoint: int) -> None:
    r = api.post(URL, json={"id": f"urn:ngsi-ld:Vehicle:A{chr(codepoint)}B", "type": "Vehicle"})
    assert r.status_code == 400 and r.json()["type"].endswith("/BadRequestData"), r.text


def test_ids_with_visible_non_ascii_characters_are_kept(api: Api) -> None:
    assert api.post(URL, json={"id": "urn:ngsi-ld:Street:南京路", "type": "Street"}).status_code == 201


def test_query_post_answers_geojson(stored: Api) -> None:
    body = {"type": "Query", "entities": [{"type": "Building"}], "geometryProperty": "observationSpace"}
    r = stored.post("/ngsi-ld/v1/entityOperations/query", json=body, headers={"Accept": GEOJSON})
    assert r.status_code == 200 and r.headers["content-type"].startswith(GEOJSON), r.text
    assert r.json()["type"] == "FeatureCollection"
    assert r.json()["features"][0]["geometry"]["coordinates"] == [121.5, 31.2]
    assert stored.post("/ngsi-ld/v1/entityOperations/query", json=body).status_code == 400  # not GeoJSON


def test_pick_takes_the_pipe_as_a_comma(stored: Api) -> None:
    url = f"{URL}/{EID}"
    comma = stored.get(url, params={"pick": "name,location"})
    pipe = stored.get(url, params={"pick": "name|location"})
    assert pipe.status_code == 200 and pipe.json() == comma.json() and set(pipe.json()) == {"name", "location"}
    assert stored.get(url, params={"pick": "name||location"}).status_code == 400


@pytest.mark.parametrize(
    "attr",
    [
        {"type": "Property", "value": "urn:ngsi-ld:null"},
        {"type": "Relationship", "object": "urn:ngsi-ld:null"},
        {"type": "Property", "value": 1, "sub": {"type": "Property", "value": "urn:ngsi-ld:null"}},
        {"type": "Property", "value": {"geo": {"country": "urn:ngsi-ld:null"}}},
    ],
)
def test_ngsild_null_cannot_be_created(api: Api, attr: dict[str, Any]) -> None:
    r = api.post(URL, json={"id": "urn:ngsi-ld:Vehicle:null-1", "type": "Vehicle", "a": attr})
    assert r.status_code == 400 and r.json()["type"].endswith("/BadRequestData"), r.text
    assert api.get(f"{URL}/urn:ngsi-ld:Vehicle:null-1").status_code == 404


@pytest.mark.parametrize(
    "attr",
    [
        {"type": "Relationship", "object": "urn:ngsi-ld:Road:1", "unitCode": "MTR"},
        {"type": "JsonProperty", "json": {"a": 1}, "unitCode": "MTR"},
        {"type": "JsonProperty", "json": 5},
        {"type": "Property", "value": 1, "previousValue": 0},
        {"type": "Relationship", "object": "urn:ngsi-ld:Road:1", "previousObject": "urn:ngsi-ld:Road:0"},
    ],
)
def test_members_an_attribute_type_does_not_have_are_refused(api: Api, attr: dict[str, Any]) -> None:
    r = api.post(URL, json={"id": "urn:ngsi-ld:Vehicle:m-1", "type": "Vehicle", "a": attr})
    assert r.status_code == 400 and r.json()["type"].endswith("/BadRequestData"), r.text


def _page_links(r: Any) -> dict[str, str]:
    links = {}
    for part in r.headers.get("Link", "").split(", <"):
        url, _, rest = part.lstrip("<").partition(">")
        if 'rel="prev"' in rest or 'rel="next"' in rest:
            links["prev" if 'rel="prev"' in rest else "next"] = url
    return links


def test_query_pages_carry_prev_and_next_links(api: Api) -> None:
    for n in "ABC":
        assert api.post(URL, json={"id": f"urn:ngsi-ld:Building:pg{n}", "type": "Building"}).status_code == 201

    def page(limit: int, offset: int) -> dict[str, str]:
        params = {"type": "Building", "idPattern": "urn:ngsi-ld:Building:pg.*", "limit": limit, "offset": offset}
        r = api.get(URL, params={**params, "count": "true"})
        assert r.status_code == 200 and CORE in r.headers["Link"], r.text
        return _page_links(r)

    base = f"{URL}?count=true&idPattern=urn:ngsi-ld:Building:pg.*"
    assert page(1, 0) == {"next": f"{base}&limit=1&offset=1&type=Building"}
    assert page(1, 1) == {
        "prev": f"{base}&limit=1&offset=0&type=Building",
        "next": f"{base}&limit=1&offset=2&type=Building",
    }
    assert page(1, 2) == {"prev": f"{base}&limit=1&offset=1&type=Building"}
    assert page(2, 0) == {"next": f"{base}&limit=2&offset=2&type=Building"}
    assert page(0, 0) == {}


def test_query_post_selector_members(api: Api) -> None:
    for n in "AB":
        assert api.post(URL, json={"id": f"urn:ngsi-ld:Vehicle:sm-{n}", "type": "Vehicle"}).status_code == 201
    query = "/ngsi-ld/v1/entityOperations/query"

    def ids(selector: dict[str, Any]) -> list[str]:
        r = api.post(query, json={"type": "Query", "entities": [selector]})
        assert r.status_code == 200, r.text
        return sorted(e["id"] for e in r.json())

    both = ["urn:ngsi-ld:Vehicle:sm-A", "urn:ngsi-ld:Vehicle:sm-B"]
    assert ids({"type": "Vehicle", "id": both}) == both
    assert ids({"type": "Vehicle", "id": both[0], "idPattern": "sm-B$"}) == both[:1]  # the id decides
    assert ids({"type": "Vehicle", "idPattern": "sm-B$"}) == both[1:]
    for bad in ({"id": both[0]}, {"type": "Vehicle", "id": "not a uri"}, {"type": "Vehicle", "id": [both[0], 5]}):
        r = api.post(query, json={"type": "Query", "entities": [bad]})
        assert r.status_code == 400 and r.json()["type"].endswith("/BadRequestData"), (bad, r.text)


def test_lang_weights_outrank_list_order(api: Api) -> None:
    street = {
        "id": "urn:ngsi-ld:Street:lw-1",
        "type": "Street",
        "name": {"type": "LanguageProperty", "languageMap": {"fr": "Grand Place", "nl": "Grote Markt"}},
    }
    assert api.post(URL, json=street).status_code == 201
    got = api.get(f"{URL}/{street['id']}", params={"lang": "fr;q=0.2,nl;q=0.9"}).json()["name"]
    assert got == {"type": "Property", "value": "Grote Markt", "lang": "nl"}
    assert api.get(f"{URL}/{street['id']}", params={"lang": "fr,nl"}).json()["name"]["lang"] == "fr"


@pytest.mark.parametrize("params", [{"attrs": "createdAt"}, {"q": 'modifiedAt>"2020-01-01T00:00:00Z"'}])
def test_a_query_on_system_attributes_alone_is_too_wide(api: Api, params: dict[str, str]) -> None:
    r = api.get(URL, params=params)
    assert r.status_code == 400 and r.json()["type"].endswith("/BadRequestData"), r.text
    assert api.get(URL, params={**params, "type": "Building"}).status_code == 200
