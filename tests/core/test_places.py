"""The place hierarchy names attributes as the data hub stores them under the core @context."""

from __future__ import annotations

from cityos.context import core_term_map
from cityos.core.places import DISTRICT, LOCATION, REF_TERMS, REFS, Place, place_of


def test_the_attribute_iris_are_the_core_context_expansions() -> None:
    tm = core_term_map()
    assert tm.expand("location") == LOCATION
    for level, term in REF_TERMS.items():
        assert tm.expand(term) == REFS[level]


def test_a_thing_names_its_unit_grid_street_and_point() -> None:
    attrs = {
        REFS["unit"]: [{"type": "Relationship", "object": "urn:ngsi-ld:ManagementUnit:waitan"}],
        REFS["grid"]: [{"type": "Relationship", "object": "urn:ngsi-ld:Grid:HP-01"}],
        LOCATION: [{"type": "GeoProperty", "value": {"type": "Point", "coordinates": [121.49, 31.24]}}],
    }
    place = place_of(attrs)
    assert place == Place("urn:ngsi-ld:ManagementUnit:waitan", "urn:ngsi-ld:Grid:HP-01", None, (121.49, 31.24))
    assert place.key("grid") == "urn:ngsi-ld:Grid:HP-01"
    assert place.key("street") is None
    assert place.key(DISTRICT) == DISTRICT
    assert place.key("polygon") is None


def test_an_area_has_no_point_and_nothing_names_nothing() -> None:
    area = {
        LOCATION: [
            {"type": "GeoProperty", "value": {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [0, 1], [0, 0]]]}}
        ]
    }
    assert place_of(area) == Place(None, None, None, None)
    assert place_of({}) == Place(None, None, None, None)
