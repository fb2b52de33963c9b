"""Errors of the applications (办件) and of the submissions that make them."""

from __future__ import annotations

from cityos.errors import PROBLEM_BASE, CityError


class InvalidSubmission(CityError):
    """A submission that lacks or mistakes a field: the detail names it."""

    type = PROBLEM_BASE + "invalid-submission"
    title = "Invalid submission"
    status = 400


class InvalidAction(CityError):
    """An action on an application that lacks a field it needs (a reason): the detail names it."""

    type = PROBLEM_BASE + "invalid-application-action"
    title = "Invalid action"
    status = 400


class SubmissionNotFound(CityError):
    type = PROBLEM_BASE + "submission-not-found"
    title = "No such submission"
    status = 404


class OnestopApplicationNotFound(CityError):
    type = PROBLEM_BASE + "onestop-application-not-found"
    title = "No such application"
    status = 404


class ApplicationActionRefused(CityError):
    """An action the application's state does not allow: the detail names the state and the allowed actions."""

    type = PROBLEM_BASE + "application-action-refused"
    title = "Action not allowed in this state"
    status = 409


class ApplicationActionForbidden(CityError):
    """An action by someone it is not for: a clerk of another department, or the applicant's action taken by a
    clerk (and the other way round)."""

    type = PROBLEM_BASE + "application-action-forbidden"
    title = "Not this caller's action"
    status = 403


class IdempotencyKeyReused(CityError):
    """The same idempotency key sent again with a different submission."""

    type = PROBLEM_BASE + "idempotency-key-reused"
    title = "Idempotency key reused for another submission"
    status = 422


class NoServiceCatalogue(CityError):
    """No resolver of service items and bundles is installed in this process."""

    type = PROBLEM_BASE + "no-service-catalogue"
    title = "No service catalogue"
    status = 503
