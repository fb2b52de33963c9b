"""Errors of the vitals package."""

from __future__ import annotations

from cityos.errors import PROBLEM_BASE, CityError


class InvalidDefinition(CityError):
    """An indicator definition that cannot be used; the detail names the indicator and the field."""

    type = PROBLEM_BASE + "invalid-indicator-definition"
    title = "Invalid indicator definition"
    status = 422


class InvalidFormula(ValueError):
    """A derived indicator's formula that cannot be evaluated; raised while validating definitions."""


class WarningNotFound(CityError):
    type = PROBLEM_BASE + "warning-not-found"
    title = "Warning not found"
    status = 404


class IndicatorNotFound(CityError):
    type = PROBLEM_BASE + "indicator-not-found"
    title = "Indicator not found"
    status = 404


class NoForecast(CityError):
    type = PROBLEM_BASE + "no-forecast"
    title = "The indicator has no forecast"
    status = 409
