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


class CaseNotFound(CityError):
    type = PROBLEM_BASE + "case-not-found"
    title = "Case not found"
    status = 404


class CaseInvalid(CityError):
    """A report or action the cases service cannot take as given; the detail says what to change."""

    type = PROBLEM_BASE + "invalid-case"
    title = "Invalid case input"
    status = 400


class CaseChanged(CityError):
    """Somebody else changed the case between reading and writing it."""

    type = PROBLEM_BASE + "case-changed"
    title = "Case changed meanwhile"
    status = 409
