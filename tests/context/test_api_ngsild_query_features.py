"""Causes of ETSI conformance failures in queries, fixed (issue 24): Linked Entity terms in q, array values
and the language wildcard in q, orderBy by distance, by a compound member and with a collation, pick/omit
bounded by join, csf checked, type=* with local=false, the discovery operations' own parameters, polygons
whose ring crosses itself. On SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import Api

URL = "/ngsi-ld/v1/entities"
ERR = "https://uri.etsi.org/ngsi-ld/errors/"
QUERY = "/ngsi-ld/v1/entityOperations/query"


def assert_problem(resp: Any, status: int, error_type: str) -> dict[str, Any]:
    assert resp.status_code == status, resp.text
    body: dict[str, Any] = resp.json()
    assert body["type"] == ERR + error_type and body["detail"], body
    return body


def prop(value: Any) -> dict[str, Any]:
    return {"type": "Property", "value": value}


def count(api: Api, **params: Any) -> int:
    r = api.get(URL, params={"count": "true", **params})
    assert r.status_code == 200, r.text
    return int(r.headers["NGSILD-Results-Count"])


@pytest.fixture
def linked(api: Api) -> Api:
    target = {"id": "urn:ngsi-ld:Building:tower", "type": "Building", "name": prop("Pisa Tower")}
    source = {
        "id": "urn:ngsi-ld:Building:office",
        "type": "Building",
        "managedBy": {"type": "Relationship", "object": "urn:ngsi-ld:Building:tower"},
        "tags": prop(["a", "b"]),
        "color": {"type": "LanguageProperty", "languageMap": {"fr": "rouge", "en": "red"}},
    }
    for body in (target, source):
        assert api.post(URL, json=body).status_code == 201
    return api


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ('managedBy{name}=="Pisa Tower"', 1),
        ('managedBy{Building:name}=="Pisa Tower"', 1),
        ('managedBy{Vehicle:name}=="Pisa Tower"', 0),  # the type hint excludes the target
        ('managedBy{name}=="Leaning"', 0),
        ("managedBy{name}", 1),
        ('managedBy{name}=="Pisa Tower";tags=="a"', 1),
    ],
)
def test_linked_entity_terms_follow_the_relationship(linked: Api, q: str, expected: int) -> None:
    assert count(linked, type="Building", q=q, join="inline") == expected


def test_linked_entity_terms_need_a_join_deep_enough(linked: Api) -> None:
    no_join = linked.get(URL, params={"type": "Building", "q": 'managedBy{name}=="x"'})
    assert "join" in assert_problem(no_join, 400, "BadRequestData")["detail"]
    too_deep = linked.get(
        URL, params={"type": "Building", "q": 'managedBy{owner{name}}=="x"', "join": "inline", "joinLevel": "1"}
    )
    assert "joinLevel is 1" in assert_problem(too_deep, 400, "BadRequestData")["detail"]
    assert count(linked, type="Building", q='managedBy{owner{name}}=="x"', join="flat", joinLevel="2") == 0
    sub = {"type": "Subscription", "entities": [{"type": "Building"}], "q": 'managedBy{name}=="x"'}
    sub["notification"] = {"endpoint": {"uri": "http://127.0.0.1:9/n"}}
    assert_problem(linked.post("/ngsi-ld/v1/subscriptions", json=sub), 400, "BadRequestData")


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ('tags=="a"', 1),  # an array value matches when one element does
        ('tags=="b","z"', 1),
        ('tags=="x","z"', 0),
        ('tags!="a"', 0),  # not equal: no element may be equal
        ('tags!="c"', 1),
        ('color[*]=="rouge"', 1),  # any language
        ('color[*]!="red"', 0),  # no language may be equal
        ('color[*]!="blue"', 1),
        ('color[en]=="rouge"', 0),
        ("color[*]", 1),
    ],
)
def test_arrays_and_the_language_wildcard_in_q(linked: Api, q: str, expected: int) -> None:
    assert count(linked, type="Building", q=q) == expected


@pytest.fixture
def places(api: Api) -> Api:
    for suffix, lon, lat, name, city in (
        ("far", 10, 45, "á", "Zurich"),
        ("near", 8.01, 40.01, "A", "Amsterdam"),
        ("mid", 9, 41, "b", "Berlin"),
    ):
        body = {
            "id": f"urn:ngsi-ld:Place:{suffix}",
            "type": "Place",
            "name": prop(name),
            "address": prop({"city": city}),
            "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [lon, lat]}},
        }
        assert api.post(URL, json=body).status_code == 201
    return api


def ordered(api: Api, **params: Any) -> list[str]:
    r = api.get(URL, params={"type": "Place", **params})
    assert r.status_code == 200, r.text
    return [e["id"].rsplit(":", 1)[1] for e in r.json()]


def test_order_by_distance_member_and_collation(places: Api) -> None:
    assert ordered(places, orderBy="location;dist-asc", orderFrom="[8,40]") == ["near", "mid", "far"]
    assert ordered(places, orderBy="location;dist-desc", orderFrom="[8,40]") == ["far", "mid", "near"]
    assert ordered(places, orderBy="address[city];desc") == ["far", "mid", "near"]
    assert ordered(places, orderBy="name") == ["near", "mid", "far"]  # code points: A, b, á
    assert ordered(places, orderBy="name", collation="und") == ["near", "far", "mid"]  # A, á, b
    missing = places.get(URL, params={"type": "Place", "orderBy": "location;dist-asc"})
    assert "orderFrom" in assert_problem(missing, 400, "BadRequestData")["detail"]
    bad_tag = places.get(URL, params={"type": "Place", "orderBy": "name", "collation": "!!nope"})
    assert_problem(bad_tag, 400, "BadRequestData")


@pytest.mark.parametrize(
    ("ordering", "status"),
    [
        ({"orderBy": ["location;dist-asc"], "coordinates": [8, 40], "geometry": "Point"}, 200),
        ({"orderBy": ["location;dist-asc"]}, 400),
        ({"orderBy": ["location;dist-asc"], "coordinates": "8,40"}, 400),
        ({"orderBy": ["id;asc"], "geometry": 5}, 400),
        ({"orderBy": ["id;asc"], "collation": "not a bcp47 tag!!"}, 400),
    ],
)
def test_the_ordering_of_a_query(places: Api, ordering: dict[str, Any], status: int) -> None:
    r = places.post(QUERY, json={"type": "Query", "entities": [{"type": "Place"}], "ordering": ordering})
    assert r.status_code == status, r.text
    if status == 200:
        assert [e["id"].rsplit(":", 1)[1] for e in r.json()] == ["near", "mid", "far"]


def test_german_phone_book_collation(api: Api) -> None:
    for n, name in ((1, "Zebra"), (2, "Ähre")):
        api.post(URL, json={"id": f"urn:ngsi-ld:Word:{n}", "type": "Word", "name": prop(name)})
    body = {"type": "Query", "entities": [{"type": "Word"}], "ordering": {"orderBy": ["name;asc"]}}
    assert [e["name"]["value"] for e in api.post(QUERY, json=body).json()] == ["Zebra", "Ähre"]
    body["ordering"]["collation"] = "de-u-co-phonebk"
    assert [e["name"]["value"] for e in api.post(QUERY, json=body).json()] == ["Ähre", "Zebra"]


def test_pick_and_omit_reach_no_deeper_than_join(linked: Api) -> None:
    params = {"type": "Building"}
    for extra in (
        {"pick": "managedBy{name}"},
        {"omit": "managedBy{name}"},
        {"pick": "locatedAt{owner{name}}", "join": "inline", "joinLevel": "1"},
        {"pick": "a{a{a{a{a{a{a{a{a{a{a{name}}}}}}}}}}}", "join": "inline", "joinLevel": "10"},
    ):
        assert_problem(linked.get(URL, params={**params, **extra}), 400, "BadRequestData")
    assert linked.get(URL, params={**params, "pick": "id,managedBy{name}", "join": "inline"}).status_code == 200
    one = linked.get(f"{URL}/urn:ngsi-ld:Building:office", params={"pick": "managedBy{name}"})
    assert_problem(one, 400, "BadRequestData")
    # a temporal read has no join: refused before the entity is looked for
    missing = linked.get("/ngsi-ld/v1/temporal/entities/urn:ngsi-ld:Building:none", params={"pick": "owner{name}"})
    assert_problem(missing, 400, "BadRequestData")


def test_context_source_filter_and_type_wildcard(linked: Api) -> None:
    assert_problem(linked.get(URL, params={"type": "Building", "csf": "))bad(("}), 400, "BadRequestData")
    assert count(linked, type="Building", csf='endpoint=="http://a.example"') == 2
    window = {"timerel": "after", "timeAt": "2020-01-01T00:00:00Z"}
    temporal = linked.get("/ngsi-ld/v1/temporal/entities", params={"type": "Building", "csf": "))bad((", **window})
    assert_problem(temporal, 400, "BadRequestData")
    assert_problem(linked.get(URL, params={"type": "*", "local": "false"}), 400, "BadRequestData")
    assert count(linked, type="*", local="true") == 2


def test_discovery_takes_its_own_parameters_only(linked: Api) -> None:
    for path in ("/ngsi-ld/v1/attributes?limit=5", "/ngsi-ld/v1/attributes/name?details=true"):
        assert_problem(linked.get(path), 400, "InvalidRequest")
    assert_problem(linked.get("/ngsi-ld/v1/types/Building?details=true"), 400, "InvalidRequest")
    assert linked.get("/ngsi-ld/v1/types/Building?local=true").status_code == 200
    assert linked.get("/ngsi-ld/v1/attributes?details=true&local=true&count=true").status_code == 200
    detailed = linked.get("/ngsi-ld/v1/attributes", params={"details": "true"}).json()
    # the list's details name the types only (ETSI 026_01); one attribute's description counts it
    assert all(set(a) == {"id", "type", "attributeName", "typeNames"} for a in detailed)
    assert linked.get("/ngsi-ld/v1/attributes/name").json()["attributeCount"] == 1


def test_a_polygon_whose_ring_crosses_itself_is_stored_and_found(api: Api) -> None:
    # ETSI 019_11's building: the second position lies a hair to the right of the closing edge
    ring = [
        [13.2865906, 52.5648645],
        [13.2879639, 52.5648645],
        [13.2797241, 52.4988679],
        [13.477478, 52.4712703],
        [13.5049438, 52.5373084],
        [13.2865906, 52.5648645],
    ]
    body = {
        "id": "urn:ngsi-ld:Building:berlin",
        "type": "Building",
        "location": {"type": "GeoProperty", "value": {"type": "Polygon", "coordinates": [ring]}},
    }
    assert api.post(URL, json=body).status_code == 201
    coords = str([ring]).replace(" ", "")
    assert count(api, type="Building", georel="equals", geometry="Polygon", coordinates=coords) == 1
    assert count(api, type="Building", georel="contains", geometry="Point", coordinates="[13.4,52.52]") == 1
