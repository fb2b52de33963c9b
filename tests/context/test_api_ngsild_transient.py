"""Transient entities and attributes (NGSI-LD v1.9, clause 4.22): ``expiresAt`` on an entity, an attribute
instance (a datasetId instance on its own) or a sub-attribute; past it, what it marks is not served, an
expired entity's id is free for a create, a transient attribute's history goes with it, an entity's stays;
``expiresAt`` is shown with ``options=sysAttrs`` only (clause 6.3.11). Past times stand in for times that
have passed, so that no test waits. On SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import Api

URL = "/ngsi-ld/v1/entities"
TEMPORAL = "/ngsi-ld/v1/temporal/entities"
PAST = "2020-01-01T00:00:00Z"
FUTURE = "2100-01-01T00:00:00Z"
EID = "urn:ngsi-ld:Vehicle:tr-1"


def create(api: Api, body: dict[str, Any]) -> None:
    r = api.post(URL, json=body)
    assert r.status_code == 201, r.text


def vehicle(**attrs: Any) -> dict[str, Any]:
    return {"id": EID, "type": "Vehicle", **attrs}


def test_an_expired_entity_is_not_served_and_its_id_is_free(api: Api) -> None:
    create(api, vehicle(expiresAt=PAST, speed={"type": "Property", "value": 1}))
    assert api.get(f"{URL}/{EID}").status_code == 404
    assert EID not in api.get(URL, params={"type": "Vehicle"}).text
    assert api.patch(f"{URL}/{EID}/attrs", json={"speed": {"type": "Property", "value": 2}}).status_code == 404
    create(api, vehicle(speed={"type": "Property", "value": 3}))  # reaped on the create: a durable one now
    assert api.get(f"{URL}/{EID}").json()["speed"]["value"] == 3


def test_expires_at_is_a_system_attribute_shown_with_sys_attrs_only(api: Api) -> None:
    sub = {"type": "Property", "value": 2, "expiresAt": FUTURE}
    create(api, vehicle(expiresAt=FUTURE, speed={"type": "Property", "value": 7, "expiresAt": FUTURE, "acc": sub}))
    plain = api.get(f"{URL}/{EID}")
    assert plain.status_code == 200 and "expiresAt" not in plain.text
    body = api.get(f"{URL}/{EID}", params={"options": "sysAttrs"}).json()
    assert body["expiresAt"] == FUTURE
    assert body["speed"]["expiresAt"] == FUTURE
    assert body["speed"]["acc"]["expiresAt"] == FUTURE
    assert "expiresAt" not in api.get(TEMPORAL + f"/{EID}").text
    assert "expiresAt" in api.get(TEMPORAL + f"/{EID}", params={"options": "sysAttrs"}).text


@pytest.mark.parametrize("bad", ["not-a-date", "2026-13-45T00:00:00Z", 12])
def test_a_malformed_expires_at_is_bad_request_data(api: Api, bad: Any) -> None:
    for body in (vehicle(expiresAt=bad), vehicle(speed={"type": "Property", "value": 1, "expiresAt": bad})):
        r = api.post(URL, json=body)
        assert r.status_code == 400 and r.json()["type"].endswith("/BadRequestData"), r.text


def test_expired_attribute_instances_go_their_siblings_and_the_entity_stay(api: Api) -> None:
    create(
        api,
        vehicle(
            temperature={"type": "Property", "value": 21, "expiresAt": PAST},
            owner={"type": "Relationship", "object": "urn:ngsi-ld:Person:p1", "expiresAt": PAST},
            humidity={"type": "Property", "value": 60},
            speed=[
                {"type": "Property", "value": "gone", "datasetId": "urn:ngsi-ld:d:gps", "expiresAt": PAST},
                {"type": "Property", "value": "kept"},
            ],
        ),
    )
    body = api.get(f"{URL}/{EID}").json()
    assert "temperature" not in body and "owner" not in body
    assert body["humidity"]["value"] == 60
    assert body["speed"]["value"] == "kept" and "urn:ngsi-ld:d:gps" not in str(body)
    listed = api.get(URL, params={"type": "Vehicle"}).json()
    assert [set(e) for e in listed] == [{"id", "type", "humidity", "speed"}]
    # the expired instance is no longer there to update
    r = api.patch(f"{URL}/{EID}/attrs/temperature", json={"type": "Property", "value": 5})
    assert r.status_code == 404


def test_entity_expiry_set_and_kept_by_the_operations_of_clause_5_5(api: Api) -> None:
    attrs = {n: {"type": "Property", "value": 1, "expiresAt": FUTURE} for n in ("temperature", "humidity", "pressure")}
    create(api, vehicle(**attrs))
    # Update Attributes replaces the whole attribute: no expiresAt given, none kept (5.5.8)
    r = api.patch(f"{URL}/{EID}/attrs", json={"temperature": {"type": "Property", "value": 2}})
    assert r.status_code == 204
    # Partial Attribute Update and Merge Entity keep what they are not given
    assert api.patch(f"{URL}/{EID}/attrs/humidity", json={"type": "Property", "value": 2}).status_code == 204
    assert api.patch(f"{URL}/{EID}", json={"pressure": {"type": "Property", "value": 2}}).status_code == 204
    body = api.get(f"{URL}/{EID}", params={"options": "sysAttrs"}).json()
    assert "expiresAt" not in body["temperature"]
    assert body["humidity"]["expiresAt"] == FUTURE and body["pressure"]["expiresAt"] == FUTURE
    # a merge giving the entity an expiresAt in the past ends it at once
    assert api.patch(f"{URL}/{EID}", json={"expiresAt": FUTURE}).status_code == 204
    assert api.get(f"{URL}/{EID}", params={"options": "sysAttrs"}).json()["expiresAt"] == FUTURE
    assert api.patch(f"{URL}/{EID}", json={"expiresAt": PAST}).status_code == 204
    assert api.get(f"{URL}/{EID}").status_code == 404


def test_an_expires_at_only_merge_writes_no_history_and_entity_expiry_keeps_it(api: Api) -> None:
    create(api, vehicle(temperature={"type": "Property", "value": 7}))
    assert api.patch(f"{URL}/{EID}/attrs/temperature", json={"type": "Property", "value": 8}).status_code == 204

    def values() -> list[Any]:
        r = api.get(f"{TEMPORAL}/{EID}", params={"options": "temporalValues"})
        assert r.status_code == 200, r.text
        return sorted(v[0] for v in r.json()["temperature"]["values"])

    assert values() == [7, 8]
    assert api.patch(f"{URL}/{EID}", json={"expiresAt": PAST}).status_code == 204
    assert api.get(f"{URL}/{EID}").status_code == 404
    assert values() == [7, 8]  # the current state is gone; its history is not


def test_a_transient_attributes_history_goes_with_it(api: Api) -> None:
    create(
        api,
        vehicle(flash={"type": "Property", "value": 10, "expiresAt": PAST}, steady={"type": "Property", "value": 1}),
    )
    body = api.get(f"{TEMPORAL}/{EID}", params={"options": "temporalValues"}).json()
    assert "flash" not in body
    assert [v[0] for v in body["steady"]["values"]] == [1]


def test_a_replace_without_expires_at_makes_the_entity_durable(api: Api) -> None:
    create(api, vehicle(expiresAt=FUTURE, speed={"type": "Property", "value": 1}))
    assert (
        api.put(f"{URL}/{EID}", json={"type": "Vehicle", "speed": {"type": "Property", "value": 2}}).status_code == 204
    )
    assert "expiresAt" not in api.get(f"{URL}/{EID}", params={"options": "sysAttrs"}).json()


def test_expires_at_is_written_on_every_attribute_type(api: Api) -> None:
    f = {"expiresAt": FUTURE}
    attrs = {
        "prop": {"type": "Property", "value": 1, **f, "sub": {"type": "Property", "value": 2, **f}},
        "rel": {"type": "Relationship", "object": "urn:ngsi-ld:X:1", **f},
        "geo": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [1, 2]}, **f},
        "langp": {"type": "LanguageProperty", "languageMap": {"en": "hi"}, **f},
        "vocabp": {"type": "VocabProperty", "vocab": "stopped", **f},
        "js": {"type": "JsonProperty", "json": {"a": 1}, **f},
        "listp": {"type": "ListProperty", "valueList": [1, 2], **f},
    }
    create(api, vehicle(**f, **attrs))
    body = api.get(f"{URL}/{EID}", params={"options": "sysAttrs"}).json()
    assert body["expiresAt"] == FUTURE and body["prop"]["sub"]["expiresAt"] == FUTURE
    assert {name: body[name]["expiresAt"] for name in attrs} == dict.fromkeys(attrs, FUTURE)
    assert "expiresAt" not in api.get(f"{URL}/{EID}").text
    assert "expiresAt" not in api.get(f"{URL}/{EID}", params={"options": "concise"}).text


def test_the_sweep_reaps_entities_expired_long_ago_and_leaves_the_recent_ones(api: Api) -> None:
    from cityos.context import service
    from cityos.core.timefmt import from_ms, now_ms

    recent = from_ms(now_ms() - 60_000)  # expired a minute ago: its temporal evolution is still read through it
    create(api, vehicle(expiresAt=PAST, speed={"type": "Property", "value": 1}))
    create(api, {**vehicle(expiresAt=recent, speed={"type": "Property", "value": 1}), "id": "urn:ngsi-ld:Vehicle:tr-2"})
    assert api.get(f"{TEMPORAL}/{EID}").status_code == 200  # expired, not reaped yet
    service._next_sweep[0] = 0.0  # the next write sweeps
    create(api, {"id": "urn:ngsi-ld:Vehicle:tr-3", "type": "Vehicle"})
    assert api.get(f"{TEMPORAL}/{EID}").status_code == 404  # reaped
    assert api.get(f"{TEMPORAL}/urn:ngsi-ld:Vehicle:tr-2").status_code == 200


def test_ngsi_ld_null_in_a_merge_makes_the_entity_durable(api: Api) -> None:
    create(api, vehicle(expiresAt=FUTURE, speed={"type": "Property", "value": 1}))
    assert api.patch(f"{URL}/{EID}", json={"expiresAt": "urn:ngsi-ld:null"}).status_code == 204
    r = api.get(f"{URL}/{EID}", params={"options": "sysAttrs"})
    assert r.status_code == 200 and "expiresAt" not in r.json() and "urn:ngsi-ld:null" not in r.text
    r = api.post(URL, json={**vehicle(expiresAt="urn:ngsi-ld:null"), "id": "urn:ngsi-ld:Vehicle:tr-null"})
    assert r.status_code == 400 and r.json()["type"].endswith("/BadRequestData")  # not in a create (5.5.4)
