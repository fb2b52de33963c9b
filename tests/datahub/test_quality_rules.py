"""Quality rules as data (cityos.datahub.quality_rules): the shipped files load, and a mistake in a file is
refused at load with the file, the rule and the field named."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from cityos.datahub.errors import InvalidQualityRules
from cityos.datahub.quality_rules import load_rules, parse_rules, read_rules

PRESENT = {"id": "a", "dimension": "completeness", "check": "present", "item": "x"}


def test_the_shipped_rules_load() -> None:
    rules = load_rules()
    assert set(rules) == {"HP-01-01-0001", "HP-02-01-0001", "HP-11-03-0002"}
    persons = rules["HP-01-01-0001"]
    assert len(persons.rules) == 15
    assert {r.dimension for r in persons.rules} == {"completeness", "uniqueness", "validity", "timeliness",
                                                   "consistency"}  # fmt: skip
    assert persons.references() == {"HP-11-03-0002", "HP-16-01-0002"}  # catalogue codes


@pytest.mark.parametrize(
    ("rule", "says"),
    [
        ({**PRESENT, "dimension": "validity"}, "rules[0] (a) a present check measures completeness, not validity"),
        ({**PRESENT, "check": "pattern", "dimension": "validity", "pattern": "(a)\\1"}, "field pattern: pattern"),
        ({**PRESENT, "check": "fresh", "dimension": "timeliness", "within": "3 months"}, "field within: '3 months'"),
        ({**PRESENT, "check": "spelling"}, "field check: 'spelling' is not a check; the checks are present"),
        ({**PRESENT, "check": "format", "dimension": "validity", "format": "iban"}, "field format: Input should be"),
        ({**PRESENT, "colour": 1}, "field colour: Extra inputs"),
        ({**PRESENT, "check": "range", "dimension": "validity"}, "needs min, max or both"),
        ({**PRESENT, "check": "agrees-with", "reference": "tax"}, "field by: Field required"),
        ({**PRESENT, "id": "Bad Id"}, "field id: String should match"),
    ],
)
def test_a_bad_rule_is_named_with_its_field(rule: dict[str, Any], says: str) -> None:
    with pytest.raises(InvalidQualityRules) as caught:
        parse_rules({"dataset": "X", "rules": [PRESENT | {"id": "z"}, rule]}, "q.yaml")
    assert "q.yaml: rules[1]" in str(caught.value)
    assert says.replace("rules[0]", "rules[1]") in str(caught.value)


def test_the_file_is_checked_as_a_whole() -> None:
    with pytest.raises(InvalidQualityRules, match="repeats the id 'a'"):
        parse_rules({"dataset": "X", "rules": [PRESENT, PRESENT]}, "q.yaml")
    with pytest.raises(InvalidQualityRules, match="weights are 0 or more"):
        parse_rules({"dataset": "X", "weights": {"validity": -1}, "rules": [PRESENT]}, "q.yaml")
    with pytest.raises(InvalidQualityRules, match="field dataset: Field required"):
        parse_rules({"rules": [PRESENT]}, "q.yaml")
    with pytest.raises(InvalidQualityRules, match="a list of 'rules'"):
        parse_rules([PRESENT], "q.yaml")


def test_files_that_cannot_be_used(tmp_path: Path) -> None:
    with pytest.raises(InvalidQualityRules, match="cannot read"):
        read_rules(tmp_path / "none.yaml")
    (tmp_path / "bad.yaml").write_text("rules: [", encoding="utf-8")
    with pytest.raises(InvalidQualityRules, match=r"bad\.yaml: not valid YAML"):
        read_rules(tmp_path / "bad.yaml")
    (tmp_path / "bad.yaml").unlink()
    for name in ("a.yaml", "b.yaml"):
        (tmp_path / name).write_text("dataset: X\nrules: [{id: a, dimension: completeness, check: present, item: x}]\n")
    with pytest.raises(InvalidQualityRules, match=r"b\.yaml: dataset X has rules in .*a\.yaml too"):
        load_rules(tmp_path)
