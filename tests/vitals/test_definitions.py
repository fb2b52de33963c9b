"""The definition validator: a valid definition loads, anything else is refused naming the field."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cityos.vitals.definitions import InvalidDefinition, load_catalogue, parse_duration, validate

BUND = "urn:ngsi-ld:ManagementUnit:waitan"
PEOPLE: dict[str, Any] = {
    "id": "bund_people",
    "name": {"zh": "外滩客流", "en": "People counted at the Bund"},
    "category": "crowds",
    "unit": "persons",
    "source": {"entityType": "CrowdFlowObserved", "attr": "peopleCount"},
    "aggregation": "sum",
    "window": {"kind": "sliding", "duration": "5m"},
    "scope": {"level": "unit", "ids": [BUND]},
}
DENSITY: dict[str, Any] = {
    "id": "bund_density",
    "name": {"zh": "外滩人群密度", "en": "Bund crowd density"},
    "category": "crowds",
    "unit": "persons/m²",
    "formula": "bund_people * dwell / 5 / area",
    "constants": {"dwell": 30, "area": 60000},
    "scope": {"level": "unit", "ids": [BUND]},
    "thresholds": {"blue": 2, "yellow": 3, "orange": 4, "red": 5, "hysteresis": 0.2, "minDuration": "2m"},
    "forecast": {"horizon": "1h", "seasonality": ["daily", "weekly"]},
}


def test_a_valid_pair_loads_with_inputs_first() -> None:
    cat = load_catalogue([DENSITY, PEOPLE])
    assert cat.order == ["bund_people", "bund_density"]
    assert cat.inputs_of("bund_density") == ["bund_people"]
    assert cat.formulas["bund_density"].evaluate({"bund_people": 40000, "dwell": 30, "area": 60000}) == 4.0


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"category": "happiness"}, "category"),
        ({"aggregation": "median"}, "aggregation"),
        ({"window": {"duration": "soon"}}, "window.duration"),
        ({"window": {"duration": "40d"}}, "window.duration"),
        ({"window": {"duration": 1e300}}, "window.duration"),  # seconds past a timedelta: was an OverflowError
        ({"window": {"duration": 10**30}}, "window.duration"),
        ({"window": {"duration": "P99999999999W"}}, "window.duration"),
        ({"scope": {"level": "galaxy"}}, "scope.level"),
        ({"scope": {"level": "polygon"}}, "scope"),
        ({"id": "Bund People"}, "id"),
        ({"name": {"zh": "外滩"}}, "name.en"),
        ({"thresholds": {"blue": 3, "yellow": 2}}, "thresholds"),
        ({"thresholds": {"direction": "below", "blue": 3, "yellow": 4}}, "thresholds"),
        ({"thresholds": {"hysteresis": 0.1}}, "thresholds"),
        ({"surprise": 1}, "surprise"),
        ({"formula": "bund_people"}, "either source"),
    ],
)
def test_a_bad_field_is_named(change: dict[str, Any], field: str) -> None:
    doc = {**copy.deepcopy(PEOPLE), **change}
    with pytest.raises(InvalidDefinition) as err:
        validate(doc)
    assert "bund_people" in err.value.detail or "Bund People" in err.value.detail
    assert field in err.value.detail


def test_catalogue_level_mistakes_are_named() -> None:
    with pytest.raises(InvalidDefinition, match="defined twice"):
        load_catalogue([PEOPLE, PEOPLE])
    with pytest.raises(InvalidDefinition, match="'nobody' is neither an indicator"):
        load_catalogue([PEOPLE, {**DENSITY, "formula": "nobody / area"}])
    a = {**DENSITY, "id": "aa", "formula": "bb + 1", "constants": {}}
    b = {**DENSITY, "id": "bb", "formula": "aa + 1", "constants": {}}
    with pytest.raises(InvalidDefinition, match="depends on itself"):
        load_catalogue([a, b])
    per_grid = {**PEOPLE, "id": "grid_people", "scope": {"level": "grid"}}
    with pytest.raises(InvalidDefinition, match="grouped by grid"):
        load_catalogue([per_grid, {**DENSITY, "formula": "grid_people / area"}])


def test_durations() -> None:
    assert parse_duration("1h30m").total_seconds() == 5400
    assert parse_duration("PT15M").total_seconds() == 900
    assert parse_duration(90).total_seconds() == 90
    for bad in ("", "5", "m5", "P", "1 h", None):
        with pytest.raises(ValueError):
            parse_duration(bad)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=10,
)


@settings(max_examples=300, deadline=None)
@given(doc=st.dictionaries(st.sampled_from([*PEOPLE, *DENSITY, "x"]), json_values, max_size=8))
def test_random_documents_are_refused_with_a_message_or_valid(doc: dict[str, Any]) -> None:
    try:
        ind = validate(doc)
    except InvalidDefinition as exc:
        assert exc.detail and exc.status == 422
    else:
        assert ind.id == doc["id"]


@settings(max_examples=200, deadline=None)
@given(key=st.sampled_from(list(PEOPLE)), junk=json_values)
def test_junk_in_one_field_of_a_valid_definition_is_refused_or_harmless(key: str, junk: Any) -> None:
    doc = {**copy.deepcopy(PEOPLE), key: junk}
    try:
        validate(doc)
    except InvalidDefinition as exc:
        assert exc.detail.startswith(("indicator", "definition"))
