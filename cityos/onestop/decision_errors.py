"""Errors of automatic decisions: rules that do not parse, and tests the rules fail (both block publishing)."""

from __future__ import annotations

from cityos.errors import PROBLEM_BASE, CityError


class DecisionRulesInvalid(CityError):
    """An item version's decision rules (or its tests) do not parse: ``where`` names the rule, claim or case
    and the field. The version is not published."""

    type = PROBLEM_BASE + "decision-rules-invalid"
    title = "The decision rules do not parse"
    status = 400


class DecisionTestFailed(CityError):
    """A test case of the item's decision rules fails (or a rule no case tests): ``case`` names the first,
    ``failures`` lists every one. The version is not published."""

    type = PROBLEM_BASE + "decision-test-failed"
    title = "A decision test fails"
    status = 422


class DecisionNotPossible(CityError):
    """The rules cannot be asked now: the application is past the point where they decide."""

    type = PROBLEM_BASE + "decision-not-possible"
    title = "The rules cannot decide this application now"
    status = 409
