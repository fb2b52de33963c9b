"""Errors of the applications for conditional data (开放申请) and of the keys they give."""

from __future__ import annotations

from cityos.errors import PROBLEM_BASE, CityError


class InvalidApplication(CityError):
    """An application or a decision that lacks or mistakes a field: the detail names it."""

    type = PROBLEM_BASE + "invalid-application"
    title = "Invalid application"
    status = 400


class ApplicationNotFound(CityError):
    type = PROBLEM_BASE + "application-not-found"
    title = "No such application"
    status = 404


class ApplicationMoveRefused(CityError):
    """A decision the application's state does not allow: the detail names the state and what is allowed."""

    type = PROBLEM_BASE + "application-move-refused"
    title = "Decision not allowed in this state"
    status = 409


class ApplicationMoveForbidden(CityError):
    type = PROBLEM_BASE + "application-move-forbidden"
    title = "Not the dataset's reviewer"
    status = 403


class KeyRefused(CityError):
    """A key that does not open the dataset asked for: unknown, not approved (yet), refused, revoked, expired, or
    another dataset's. The CKAN Action API answers it as an ``Authorization Error``."""

    type = PROBLEM_BASE + "opendata-key-refused"
    title = "The key does not open this dataset"
    status = 403


class ReleaseBlocked(CityError):
    """A dataset whose latest release check is blocked by the de-identification gate: nothing is served until
    the policy (or the records) is fixed and the release checked again."""

    type = PROBLEM_BASE + "release-blocked"
    title = "Release blocked by the de-identification gate"
    status = 403
