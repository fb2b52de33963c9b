"""Errors of the web package."""

from __future__ import annotations

from cityos.errors import PROBLEM_BASE, CityError


class LibraryMissing(CityError):
    type = PROBLEM_BASE + "library-missing"
    title = "A front-end library is not installed"
    status = 503
