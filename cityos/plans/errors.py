"""Errors of the plans package."""

from __future__ import annotations

from cityos.errors import PROBLEM_BASE, CityError


class InvalidPlanIndicator(CityError):
    """A plan indicator that cannot be used (cityos/plans/indicators.yaml); the detail names it and the field."""

    type = PROBLEM_BASE + "invalid-plan-indicator"
    title = "Invalid plan indicator"
    status = 422
