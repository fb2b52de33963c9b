"""The decision rules' evaluation and parsing (pure). The shipped rules' YAML cases are collected from this file
by tests/onestop/conftest.py, one test item per case (``<item>::<case>``)."""

from __future__ import annotations

from typing import Any

import pytest

from cityos.onestop.decisions import RulesProblem, evaluate, parse_cases, parse_rules, run_cases

RULES: dict[str, Any] = {
    "rules": [
        {
            "id": "too-big",
            "when": {">": [{"var": "answers.area"}, 50]},
            "then": "refuse",
            "reason": ["太大", "too big"],
        },
        {"id": "small", "when": {"<=": [{"var": "answers.area"}, 10]}, "then": "approve", "reason": ["小", "small"]},
        {
            "id": "recent",
            "when": {"<=": [{"days_since": [{"var": "answers.on"}]}, 30]},
            "then": "approve",
            "reason": ["近期", "recent"],
        },
    ],
    "claims": {"area": {"var": "answers.area"}, "holder": {"var": "applicant.key"}},
}


def _facts(**answers: Any) -> dict[str, Any]:
    return {"answers": answers, "applicant": {"kind": "person", "key": "K"}, "evidence": {},
            "application": {"id": "a"}, "today": "2026-12-06"}  # fmt: skip


def test_every_approve_rule_approves_any_refuse_rule_refuses_and_the_rest_goes_to_a_clerk() -> None:
    rules = parse_rules(RULES)
    yes = evaluate(rules, _facts(area=5, on="2026-12-01"))
    assert (yes.outcome, [s.rule for s in yes.reasons], yes.claims) == ("approve", ["small", "recent"],
                                                                        {"area": 5, "holder": "K"})  # fmt: skip
    no = evaluate(rules, _facts(area=60, on="2026-12-01"))
    assert (no.outcome, [s.rule for s in no.reasons], no.claims) == ("refuse", ["too-big"], None)
    maybe = evaluate(rules, _facts(area=20, on="2026-12-01"))
    assert (maybe.outcome, [s.rule for s in maybe.reasons]) == ("undecided", ["small"])
    assert [(s.rule, s.holds, s.inputs) for s in maybe.trace] == [
        ("too-big", False, {"answers.area": 20}), ("small", False, {"answers.area": 20}),
        ("recent", True, {"answers.on": "2026-12-01"})]  # fmt: skip


def test_a_missing_fact_never_decides() -> None:
    got = evaluate(parse_rules(RULES), _facts())
    assert got.outcome == "undecided" and not any(s.holds for s in got.trace)


@pytest.mark.parametrize(("change", "where"), [
    ({"rules": []}, "decision.rules"),
    ({"rules": [{"id": "x", "when": {"log": [1]}, "then": "approve", "reason": ["a", "b"]}]}, "(x).when"),
    ({"rules": [{"id": "x", "when": {"==": [{"var": "secret"}, 1]}, "then": "approve", "reason": ["a", "b"]}]},
     "(x).when"),
    ({"rules": [{"id": "x", "when": {"==": [1, 1]}, "then": "maybe", "reason": ["a", "b"]}]}, "(x).then"),
    ({"rules": [{"id": "x", "when": {"==": [1, 1]}, "then": "approve", "reason": "只有中文"}]}, "(x).reason"),
    ({"claims": {"a": {"nope": []}}}, "decision.claims.a"),
    ({"tests": [{"name": "t", "expect": "approve"}]}, "decision.tests[0] (t)"),
])  # fmt: skip
def test_rules_that_do_not_parse_name_where(change: dict[str, Any], where: str) -> None:
    with pytest.raises(RulesProblem) as exc:
        parse_rules({**RULES, **change})
    assert where in exc.value.where


def test_failing_cases_and_untested_rules_are_named() -> None:
    cases = parse_cases({"today": "2026-12-06", "cases": [
        {"name": "small-is-approved", "answers": {"area": 5, "on": "2026-12-01"}, "expect": "approve"},
        {"name": "wrongly-expected", "answers": {"area": 20, "on": "2026-12-01"}, "expect": "approve"},
    ]})  # fmt: skip
    failures = run_cases(parse_rules(RULES), cases)
    assert [f.case for f in failures] == ["wrongly-expected", "rule too-big"]
    assert "undecided" in failures[0].message


def test_the_date_operations() -> None:
    rules = parse_rules({"rules": [{"id": "adult", "when": {">=": [{"years_since": [{"id_birth_date": [
        {"var": "applicant.key"}]}]}, 18]}, "then": "approve", "reason": ["成年", "adult"]}]})  # fmt: skip
    facts = _facts() | {"applicant": {"key": "310101200812062580"}}
    assert evaluate(rules, facts).outcome == "approve"  # 18 today
    assert evaluate(rules, facts | {"today": "2026-12-05"}).outcome == "undecided"
    assert evaluate(rules, facts | {"applicant": {"key": "91310101MA1FPX1234"}}).outcome == "undecided"
