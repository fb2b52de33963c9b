"""Representations, fixed for ETSI conformance: a consumer's preferred NGSI-LD version (Prefer: ngsi-ld=,
clause 4.3.6.8), the simplified form of LanguageProperty/JsonProperty/VocabProperty (clause 4.5.4) and the
GeoJSON geometry of a Feature (clause 4.5.16). On SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import Api

EID = "urn:ngsi-ld:Building:fmt-1"
BASE = f"/ngsi-ld/v1/entities/{EID}"
SUB = "urn:ngsi-ld:Subscription:fmt-1"


def building() -> dict[str, Any]:
    return {
        "id": EID,
        "type": "Building",
        "category": {"type": "VocabProperty", "vocab": "monument"},
        "extra": {"type": "JsonProperty", "json": {"a": 1}},
        "floors": {"type": "ListProperty", "valueList": [1, 2]},
        "name": {"type": "LanguageProperty", "languageMap": {"zh": "外滩", "en": "Bund"}},
        "height": {"type": "Property", "value": 30, "kind": {"type": "VocabProperty", "vocab": "measured"}},
        "speed": [
            {"type": "Property", "value": 55},
            {"type": "Property", "value": 11, "datasetId": "urn:ngsi-ld:Dataset:gps"},
        ],
        "location": [
            {
                "type": "GeoProperty",
                "value": {"type": "Point", "coordinates": [9.0, 9.0]},
                "datasetId": "urn:ngsi-ld:Dataset:gps",
            },
            {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [121.5, 31.2]}},
        ],
    }


@pytest.fixture
def stored(api: Api) -> Api:
    assert api.post("/ngsi-ld/v1/entities", json=building()).status_code == 201
    return api


def test_an_earlier_version_reformats_attributes_introduced_later(stored: Api) -> None:
    r = stored.get(BASE, headers={"Prefer": "ngsi-ld=1.5"})
    assert r.status_code == 203, r.text
    assert r.headers["Preference-Applied"] == "ngsi-ld=1.5"
    doc = r.json()
    assert doc["category"] == {"type": "Property", "value": "monument"}
    assert doc["extra"] == {"type": "Property", "value": {"a": 1}}
    assert doc["floors"] == {"type": "Property", "value": [1, 2]}
    assert doc["height"]["kind"] == {"type": "Property", "value": "measured"}
    assert doc["name"]["type"] == "LanguageProperty"  # older than 1.5: kept
    r = stored.get(BASE, params={"options": "keyValues"}, headers={"Prefer": "ngsi-ld=1.5"})
    assert r.status_code == 203
    assert r.json()["category"] == "monument"
    r = stored.get("/ngsi-ld/v1/entities", params={"type": "Building"}, headers={"Prefer": "ngsi-ld=1.5"})
    assert r.status_code == 203
    assert r.json()[0]["category"]["type"] == "Property"


def test_the_native_version_leaves_entities_untouched(stored: Api) -> None:
    r = stored.get(BASE, headers={"Prefer": "ngsi-ld=1.9"})
    assert r.status_code == 200
    assert r.headers["Preference-Applied"] == "ngsi-ld=1.9"
    assert r.json()["category"] == {"type": "VocabProperty", "vocab": "monument"}
    r = stored.get(BASE)
    assert "Preference-Applied" not in r.headers


@pytest.mark.parametrize(
    "prefer",
    ["ngsi-ld=1.0", "NGSI-LD=1.0", "Ngsi-Ld=1.0", 'ngsi-ld="1.0"', "ngsi-ld=1.0;q=0.1", "respond-async, ngsi-ld=1.0"],
)
def test_the_version_preference_in_rfc_7240_spellings(api: Api, prefer: str) -> None:
    sub = {
        "id": SUB,
        "type": "Subscription",
        "entities": [{"type": "Building"}],
        "notification": {"attributes": ["name"], "endpoint": {"uri": "http://127.0.0.1:9/notify"}},
    }
    assert api.post("/ngsi-ld/v1/subscriptions", json=sub).status_code == 201
    r = api.get(f"/ngsi-ld/v1/subscriptions/{SUB}", headers={"Prefer": prefer})
    assert r.status_code == 200  # a subscription has no fallbacks: unaltered
    assert r.headers["Preference-Applied"] == "ngsi-ld=1.0"
    assert r.json()["notification"]["attributes"] == ["name"]


@pytest.mark.parametrize("prefer", ["respond-async", "ngsi-ld=2.0", "ngsi-ld=latest"])
def test_no_version_preference_applies_nothing(stored: Api, prefer: str) -> None:
    r = stored.get(BASE, headers={"Prefer": prefer})
    assert r.status_code == 200
    assert "Preference-Applied" not in r.headers


def test_simplified_keeps_the_kind_of_language_json_and_vocab_properties(stored: Api) -> None:
    r = stored.get(BASE, params={"options": "keyValues"})
    assert r.status_code == 200, r.text
    doc = r.json()
    assert doc["name"] == {"languageMap": {"zh": "外滩", "en": "Bund"}}
    assert doc["extra"] == {"json": {"a": 1}}
    assert doc["category"] == {"vocab": "monument"}
    assert doc["floors"] == [1, 2]
    assert doc["speed"] == {"dataset": {"@none": 55, "urn:ngsi-ld:Dataset:gps": 11}}
    # a language filter makes the LanguageProperty a Property: its one string
    r = stored.get(BASE, params={"options": "keyValues", "lang": "en"})
    assert r.json()["name"] == "Bund"


@pytest.mark.parametrize("options", [None, "concise", "keyValues"])
def test_geojson_geometry_is_the_default_instance(stored: Api, options: str | None) -> None:
    params = {"options": options} if options else {}
    r = stored.get(BASE, params=params, headers={"Accept": "application/geo+json"})
    assert r.status_code == 200, r.text
    feature = r.json()
    assert feature["geometry"] == {"type": "Point", "coordinates": [121.5, 31.2]}
    assert "id" not in feature["properties"]


@pytest.mark.parametrize("options", [None, "concise", "keyValues"])
def test_geojson_geometry_is_null_without_a_geometry(stored: Api, options: str | None) -> None:
    params: dict[str, str] = {"geometryProperty": "height"}
    if options:
        params["options"] = options
    r = stored.get(BASE, params=params, headers={"Accept": "application/geo+json"})
    assert r.status_code == 200, r.text
    assert r.json()["geometry"] is None
    r = stored.get(BASE, params={**params, "geometryProperty": "nowhere"}, headers={"Accept": "application/geo+json"})
    assert r.json()["geometry"] is None
