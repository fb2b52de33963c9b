"""The checks an item version's decision rules pass before it is published: they parse, every test case
gives the outcome, reasons and claims it expects, every rule holds in some case, and the claims an approving
case makes are a valid certificate of the item's type (so that an automatic approval can issue it)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from cityos.onestop import certificate_types
from cityos.onestop.decision_errors import DecisionRulesInvalid, DecisionTestFailed
from cityos.onestop.decisions import Failure, Rules, RulesProblem, evaluate, parse_cases, parse_rules, run_cases
from cityos.onestop.models import ServiceItem


def rules_of(it: ServiceItem) -> Rules | None:
    """The item's decision rules, parsed (None: it has none); DecisionRulesInvalid (400) naming the part."""
    if it.decision is None:
        return None
    try:
        return parse_rules(it.decision, f"item {it.code} decision")
    except RulesProblem as exc:
        raise DecisionRulesInvalid(str(exc), item=it.code, where=exc.where) from None


def _claims_failures(it: ServiceItem, rules: Rules) -> list[Failure]:
    kind = certificate_types.catalogue().get(it.certificate_type or "")
    if kind is None:
        return []
    found = []
    for case in rules.cases:
        got = evaluate(rules, case.facts)
        problem = certificate_types.claims_problem(kind, got.claims or {}) if got.outcome == "approve" else None
        if problem is not None:
            found.append(Failure(case.name, f"the claims make no {kind.code}: claims.{problem[0]} {problem[1]}"))
    return found


def checked(it: ServiceItem, tests: Any = None) -> ServiceItem:
    """The item with its decision rules checked and tested (``tests``: the cases to keep with it instead of its
    own). DecisionRulesInvalid (400) when the rules or tests do not parse; DecisionTestFailed (422) naming the
    first failing case and listing every one."""
    if tests is not None and it.decision is not None:
        it = replace(it, decision={**it.decision, "tests": tests})
    rules = rules_of(it)
    if rules is None:
        if tests is not None:
            try:
                parse_cases(tests)
            except RulesProblem as exc:
                raise DecisionRulesInvalid(str(exc), item=it.code, where=exc.where) from None
            raise DecisionRulesInvalid(f"item {it.code}: tests are given but the item has no decision rules",
                                       item=it.code, where="tests")  # fmt: skip
        return it
    failures = run_cases(rules, rules.cases) + _claims_failures(it, rules)
    if failures:
        first = failures[0]
        raise DecisionTestFailed(
            f"item {it.code} version {it.version}: decision test {first.case!r} fails: {first.message}"
            + (f" (and {len(failures) - 1} more)" if len(failures) > 1 else ""),
            item=it.code, case=first.case, failures=[{"case": f.case, "message": f.message} for f in failures],
        )  # fmt: skip
    return it
