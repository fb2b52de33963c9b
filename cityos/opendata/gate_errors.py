"""Errors of the de-identification gate (issue 19 item 5)."""

from __future__ import annotations

from cityos.errors import PROBLEM_BASE, CityError


class InvalidPolicy(CityError):
    """A de-identification policy that cannot be applied: the detail names the file, the entry, the field and
    what is allowed. Nothing is released under a policy with a mistake in it."""

    type = PROBLEM_BASE + "invalid-deidentification-policy"
    title = "Invalid de-identification policy"
    status = 422
