"""Entity payload rules the ETSI conformance suite's provision tests found missing, fixed to NGSI-LD v1.9: a
null item in a batch, UTC-only observedAt, type names, valueType and LanguageProperty, the ngsildproof
Property, the "@none" datasetId, geometry as JSON text, location as a GeoProperty, NGSI-LD Null inside values
(refused but in a merge, which removes the key), scoped contexts, ListRelationship entries, purge with a
linked entity projection. On SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import Api

NULL = "urn:ngsi-ld:null"
ERR = "https://uri.etsi.org/ngsi-ld/errors/"
LD = {"Content-Type": "application/ld+json"}
CORE = "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.9.jsonld"
EID = "urn:ngsi-ld:Bus:hp-71-0042"
BASE = f"/ngsi-ld/v1/entities/{EID}"


def bus(**attrs: Any) -> dict[str, Any]:
    return {"id": EID, "type": "Bus", **attrs}


def bad_data(r: Any) -> str:
    assert r.status_code == 400, r.text
    assert r.json()["type"] == ERR + "BadRequestData", r.json()
    return str(r.json().get("detail", ""))


def absent(api: Api) -> None:
    assert api.get(BASE).status_code == 404


def created(api: Api, entity: dict[str, Any]) -> dict[str, Any]:
    r = api.post("/ngsi-ld/v1/entities", json=entity)
    assert r.status_code == 201, r.text
    got = api.get(BASE)
    assert got.status_code == 200, got.text
    return dict(got.json())


# --- batches --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("op", ["create", "upsert", "update", "merge"])
def test_a_null_item_fails_the_whole_batch(api: Api, op: str) -> None:
    r = api.post(f"/ngsi-ld/v1/entityOperations/{op}", json=[bus(), None])
    assert "null at position 1" in bad_data(r)
    absent(api)


# --- names and times ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "when", ["2026-08-10T12:00:00+02:00", "2026-08-10T12:00:00.000+00:00", "2026-08-10T12:00-0500"]
)
def test_observed_at_with_a_utc_offset_is_refused(api: Api, when: str) -> None:
    speed = {"type": "Property", "value": 3, "observedAt": when}
    assert "UTC offset" in bad_data(api.post("/ngsi-ld/v1/entities", json=bus(speed=speed)))
    absent(api)


def test_observed_at_in_utc_is_kept(api: Api) -> None:
    got = created(api, bus(speed={"type": "Property", "value": 3, "observedAt": "2026-08-10T12:00:00Z"}))
    assert got["speed"]["observedAt"] == "2026-08-10T12:00:00Z"


def test_an_entity_type_begins_with_a_letter(api: Api) -> None:
    assert "begin with a letter" in bad_data(api.post("/ngsi-ld/v1/entities", json={"id": EID, "type": "9Bus"}))
    assert created(api, {"id": EID, "type": "Škola"})["type"] == "Škola"


def test_null_is_no_entity_id(api: Api) -> None:
    bad_data(api.post("/ngsi-ld/v1/entities", json={"id": NULL, "type": "Bus"}))
    bad_data(api.post("/ngsi-ld/v1/entities", json=bus(scope=NULL)))


# --- attribute members ----------------------------------------------------------------------------------


def test_value_type_is_a_member_and_a_language_property_s_is_lang_string(api: Api) -> None:
    probe = {"type": "LanguageProperty", "languageMap": {"en": "x"}, "valueType": "xsd:string"}
    assert "langString" in bad_data(api.post("/ngsi-ld/v1/entities", json=bus(probe=probe)))
    bad_data(api.post("/ngsi-ld/v1/entities", json=bus(probe={"type": "LanguageProperty", "languageMap": {"": "x"}})))
    got = created(
        api,
        bus(
            probe={"type": "LanguageProperty", "languageMap": {"zh": "七十一路"}, "valueType": "langString"},
            speed={"type": "Property", "value": 41.5, "valueType": "xsd:double"},
        ),
    )
    assert got["probe"]["valueType"] == "langString"
    assert got["speed"] == {"type": "Property", "value": 41.5, "valueType": "xsd:double"}


PROOF = {
    "type": "DataIntegrityProof",
    "created": "2026-12-01T08:00:00Z",
    "cryptosuite": "eddsa-rdfc-2022",
    "proofPurpose": "assertionMethod",
    "proofValue": "z3FXQjecWufY46",
}


def test_the_proof_property_keeps_its_sealed_members_as_strings(api: Api) -> None:
    proof = {"type": "Property", "value": PROOF, "entityIdSealed": EID, "entityTypeSealed": "Bus"}
    got = created(api, bus(ngsildproof=proof))
    assert got["ngsildproof"] == proof


@pytest.mark.parametrize(
    "attrs",
    [
        {"speed": {"type": "Property", "value": 1, "entityIdSealed": EID}},
        {"speed": {"type": "Property", "value": 1, "entityTypeSealed": "Bus"}},
        {"ngsildproof": {"type": "Property", "value": "not-a-proof-object"}},
        {"ngsildproof": {"type": "Property", "value": PROOF, "entityTypeSealed": 42}},
        {"ngsildproof": {"type": "Property", "value": PROOF, "entityIdSealed": "not a uri"}},
    ],
)
def test_sealed_members_elsewhere_and_a_proof_that_is_no_object_are_refused(api: Api, attrs: dict) -> None:
    bad_data(api.post("/ngsi-ld/v1/entities", json=bus(**attrs)))
    absent(api)


def test_the_none_dataset_id_is_the_default_instance(api: Api) -> None:
    speed = [
        {"type": "Property", "value": 55, "datasetId": "@none"},
        {"type": "Property", "value": 11, "datasetId": "urn:ngsi-ld:Dataset:gps"},
    ]
    got = created(api, bus(speed=speed))
    assert sorted(got["speed"], key=lambda i: i["value"]) == [
        {"type": "Property", "value": 11, "datasetId": "urn:ngsi-ld:Dataset:gps"},
        {"type": "Property", "value": 55},
    ]
    api.delete(BASE)
    two = [{"type": "Property", "value": 55}, {"type": "Property", "value": 11, "datasetId": "@none"}]
    assert "more than once" in bad_data(api.post("/ngsi-ld/v1/entities", json=bus(speed=two)))


def test_a_dataset_id_cannot_be_deleted_with_null(api: Api) -> None:
    created(api, bus(speed={"type": "Property", "value": 25}))
    assert "cannot be deleted" in bad_data(api.patch(f"{BASE}/attrs/speed", json={"datasetId": NULL}))


def test_list_relationship_entries_are_held_as_uris_and_shown_as_relationships(api: Api) -> None:
    route = {"type": "ListRelationship", "objectList": ["urn:ngsi-ld:Road:1", {"object": "urn:ngsi-ld:Road:2"}]}
    got = created(api, bus(route=route))
    assert got["route"]["objectList"] == [{"object": "urn:ngsi-ld:Road:1"}, {"object": "urn:ngsi-ld:Road:2"}]
    simple = api.get(BASE, params={"options": "keyValues"}).json()
    assert simple["route"] == ["urn:ngsi-ld:Road:1", "urn:ngsi-ld:Road:2"]


# --- geometry -------------------------------------------------------------------------------------------


def test_a_geometry_given_as_json_text_is_stored_as_the_geometry(api: Api) -> None:
    location = {"type": "GeoProperty", "value": '{"type": "Point", "coordinates": [121.47, 31.23]}'}
    got = created(api, bus(location=location))
    assert got["location"]["value"] == {"type": "Point", "coordinates": [121.47, 31.23]}


@pytest.mark.parametrize(
    "location",
    [
        {"type": "GeoProperty", "value": "not a geometry"},
        {"type": "Property", "value": 7},
        {"type": "Relationship", "object": "urn:ngsi-ld:Stop:1"},
        7,
    ],
)
def test_location_is_a_geo_property_or_refused(api: Api, location: Any) -> None:
    bad_data(api.post("/ngsi-ld/v1/entities", json=bus(location=location)))
    absent(api)


# --- NGSI-LD Null inside values -------------------------------------------------------------------------

ADDRESS = {"type": "Property", "value": {"street": "Nanjing Rd", "city": "Shanghai", "country": "China"}}


def test_null_inside_a_value_is_refused_by_create_update_and_partial_update(api: Api) -> None:
    inner = {"type": "Property", "value": {"country": NULL}}
    bad_data(api.post("/ngsi-ld/v1/entities", json=bus(address=inner)))
    created(api, bus(address=ADDRESS))
    bad_data(api.patch(f"{BASE}/attrs/address", json={"value": {"country": NULL}}))
    bad_data(api.patch(f"{BASE}/attrs", json={"address": inner}))
    assert api.get(BASE).json()["address"] == ADDRESS


def test_a_merge_patches_a_value_object_and_null_removes_a_key(api: Api) -> None:
    created(api, bus(address=ADDRESS))
    fragment = {"address": {"type": "Property", "value": {"street": "Huaihai Rd", "country": NULL}}}
    assert api.patch(BASE, json=fragment).status_code == 204
    got = api.get(BASE)
    assert got.json()["address"]["value"] == {"street": "Huaihai Rd", "city": "Shanghai"}
    assert NULL not in got.text
    more = {"id": EID, "type": "Bus", "owner": {"type": "Property", "value": {"name": "Bus Co", "fax": NULL}}}
    assert api.post("/ngsi-ld/v1/entityOperations/merge", json=[more]).status_code == 204
    assert api.get(BASE).json()["owner"]["value"] == {"name": "Bus Co"}


# --- contexts and purge ---------------------------------------------------------------------------------


def test_a_scoped_context_in_a_user_context_is_refused(api: Api) -> None:
    ctx = {"Bus": {"@id": "https://example.org/Bus", "@context": {"speed": "https://example.org/hidden"}}}
    r = api.post("/ngsi-ld/v1/entities", json={**bus(), "@context": [ctx, CORE]}, headers=LD)
    assert "scoped" in bad_data(r)
    absent(api)


def test_a_purge_with_a_linked_entity_projection_is_refused(api: Api) -> None:
    created(api, bus(speed={"type": "Property", "value": 1}))
    r = api.delete("/ngsi-ld/v1/entities", params={"type": "Bus", "attrs": "owner{name}"})
    assert "linked entity projection" in bad_data(r)
    assert api.get(BASE).status_code == 200


def test_null_of_a_whole_language_property_still_deletes_it_in_a_partial_update(api: Api) -> None:
    created(api, bus(street={"type": "LanguageProperty", "languageMap": {"zh": "淮海路", "en": "Huaihai Rd"}}))
    r = api.patch(f"{BASE}/attrs/street", json={"type": "LanguageProperty", "languageMap": {"@none": NULL}})
    assert r.status_code == 204, r.text
    assert "street" not in api.get(BASE).json()


def test_an_update_adds_an_instance_of_a_new_dataset_id(api: Api) -> None:
    created(api, bus(temperature={"type": "Property", "value": 25, "unitCode": "CEL"}))
    extra = {"temperature": {"type": "Property", "value": 30, "datasetId": "urn:ngsi-ld:Dataset:extra"}}
    assert api.patch(f"{BASE}/attrs", json=extra).status_code == 204
    assert sorted(i["value"] for i in api.get(BASE).json()["temperature"]) == [25, 30]
    r = api.patch(f"{BASE}/attrs", json={"pressure": {"type": "Property", "value": 1}})
    assert r.status_code == 207 and r.json()["notUpdated"][0]["attributeName"] == "pressure"


@pytest.mark.parametrize("method", ["DELETE", "PATCH"])
def test_an_instance_path_without_the_attribute_name_is_bad_request_data(api: Api, method: str) -> None:
    r = api.request(method, f"/ngsi-ld/v1/temporal/entities/{EID}/attrs//urn:ngsi-ld:Instance:1", json={"value": 1})
    assert "names no attribute" in bad_data(r)
