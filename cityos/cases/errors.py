"""Errors of the cases package."""

from __future__ import annotations

from cityos.errors import PROBLEM_BASE, CityError


class InvalidCasesConfig(CityError):
    """A taxonomy, routing rule set or time-limit table that cannot be used; the detail names the entry and field."""

    type = PROBLEM_BASE + "invalid-cases-config"
    title = "Invalid cases configuration"
    status = 422


class TransitionRefused(CityError):
    """An action the workflow table or one of its guards does not allow now; the detail says the case's state,
    the action, what is missing, and which actions are allowed instead."""

    type = PROBLEM_BASE + "transition-refused"
    title = "Transition refused"
    status = 409
