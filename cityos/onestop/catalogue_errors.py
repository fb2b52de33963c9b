"""Errors of the service items, the bundles and their merged forms."""

from __future__ import annotations

from cityos.errors import PROBLEM_BASE, CityError


class InvalidServiceData(CityError):
    """Service item, bundle or question data that does not hold together (a shipped file, or an item version
    being published): the detail names the file or item, the entry and the field."""

    type = PROBLEM_BASE + "invalid-service-data"
    title = "Invalid service item data"
    status = 400


class ItemNotFound(CityError):
    type = PROBLEM_BASE + "service-item-not-found"
    title = "No such service item"
    status = 404


class BundleNotFound(CityError):
    type = PROBLEM_BASE + "bundle-not-found"
    title = "No such bundle"
    status = 404


class ItemVersionConflict(CityError):
    """Another version of the item was published meanwhile: read the item again and publish on top of it."""

    type = PROBLEM_BASE + "service-item-version-conflict"
    title = "The item has a newer version"
    status = 409


class InvalidAnswers(CityError):
    """Form answers of the wrong type, or a required question shown and not answered. ``errors`` lists each
    field (the question's code) with what is wrong; the detail names them."""

    type = PROBLEM_BASE + "invalid-answers"
    title = "Invalid form answers"
    status = 400
