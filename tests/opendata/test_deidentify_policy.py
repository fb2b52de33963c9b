"""The de-identification policy as data: the shipped file fits the demo catalogue (every entry it names is
there, every rule fits its item), and a mistake is refused naming the file, the entry and the field."""

from __future__ import annotations

from typing import Any

import pytest
from gate_samples import DEFAULTS, RESIDENTS, STATS, policy

from cityos.datahub import OpeningType, load_scale, read_catalogue
from cityos.opendata import InvalidPolicy, Subject, deidentify, load_policy, parse_policy, policy_for


def test_the_shipped_policy_fits_every_entry_of_the_demo_catalogue() -> None:
    shipped, catalogue = load_policy(), read_catalogue()
    entries = {e.code: e for e in catalogue.entries}
    assert set(shipped.entries) <= set(entries)
    for e in entries.values():
        applied = policy_for(shipped, e)
        result = deidentify(e, [], applied, load_scale())
        assert result.passed == (e.opening is not OpeningType.NONE), e.code
    persons = policy_for(shipped, entries["HP-01-01-0001"])
    assert persons.subject is Subject.PERSONS and persons.max_level is None  # 不予开放, whatever its rules
    assert policy_for(shipped, entries["HP-06-01-0001"]).subject is Subject.THINGS  # inferred: no person in it


@pytest.mark.parametrize(
    ("entries", "where", "says"),
    [
        ({"T-01-0001": {"generalise": {"birthDate": "decade"}}}, "entries.T-01-0001.generalise.birthDate", "rules"),
        ({"T-01-0001": {"generalise": {"birthDate": {"years": 0}}}}, "generalise.birthDate.years", "at least 1"),
        ({"T-01-0001": {"subject": "people"}}, "entries.T-01-0001.subject", "persons, organisations"),
        ({"T-01-0001": {"k": 5, "l": 2}}, "entries.T-01-0001", "'l'"),
        ({"T-01-0001": {"quasi": "gender"}}, "entries.T-01-0001.quasi", "list of names"),
    ],
)
def test_a_mistake_in_the_file_is_refused_naming_the_field(entries: dict[str, Any], where: str, says: str) -> None:
    with pytest.raises(InvalidPolicy) as caught:
        parse_policy({"defaults": DEFAULTS, "entries": entries}, "policy.yaml")
    assert (
        caught.value.detail.startswith("policy.yaml: ") and where in caught.value.detail and says in caught.value.detail
    )


def test_the_defaults_must_say_what_may_show() -> None:
    for missing in ("maxLevel", "direct", "directOfPersons"):
        with pytest.raises(InvalidPolicy, match=f"defaults.{missing}: is required"):
            parse_policy({"defaults": {k: v for k, v in DEFAULTS.items() if k != missing}}, "policy.yaml")


@pytest.mark.parametrize(
    ("e", "own", "says"),
    [
        (RESIDENTS, {"quasi": ["postcode"]}, "has no item 'postcode'"),
        (RESIDENTS, {"generalise": {"income": "street"}}, "street fits items of kind address, not number"),
        (RESIDENTS, {"generalise": {"name": {"prefix": 1}}}, "a name is a direct identifier"),
        (STATS, {"subject": "aggregates"}, "an aggregate entry names its count items"),
    ],
)
def test_rules_that_do_not_fit_the_entry_are_refused(e: Any, own: dict[str, Any], says: str) -> None:
    with pytest.raises(InvalidPolicy, match=says):
        policy_for(policy(**{e.code: own}), e)


def test_a_max_level_off_the_scale_is_refused_when_applied() -> None:
    applied = policy_for(policy(**{STATS.code: {"maxLevel": "secret"}}), STATS)
    with pytest.raises(InvalidPolicy, match="'secret' is no level of the scale"):
        deidentify(STATS, [], applied, load_scale())


def test_the_policy_applied_is_recorded_as_data() -> None:
    applied = policy_for(policy(**{RESIDENTS.code: {"generalise": {"birthDate": {"years": 5}}, "k": 10}}), RESIDENTS)
    doc = applied.as_dict()
    assert doc["generalise"] == {"birthDate": "years size=5"} and doc["k"] == 10 and doc["subject"] == "persons"
    assert doc["max_level"] == "general-2" and "id-card" in doc["direct"]
