"""Errors of the twin package."""

from __future__ import annotations

from cityos.errors import PROBLEM_BASE, CityError


class UnitNotFound(CityError):
    type = PROBLEM_BASE + "unit-not-found"
    title = "Management unit not found"
    status = 404


class UnknownSensorType(CityError):
    """A sensor type filter naming no type the twin shows; the detail lists the types."""

    type = PROBLEM_BASE + "unknown-sensor-type"
    title = "Unknown sensor type"
    status = 400


class NotAWhatIfInput(CityError):
    """A what-if input that is not a forecast base indicator of the unit; the detail lists the ones that are."""

    type = PROBLEM_BASE + "not-a-what-if-input"
    title = "Not a what-if input of this unit"
    status = 422


class NoHistory(CityError):
    """A what-if whose input has no stored values in the unit yet: there is nothing to forecast from."""

    type = PROBLEM_BASE + "no-history"
    title = "No history to forecast from"
    status = 409
