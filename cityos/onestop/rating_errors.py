"""Errors of 好差评 ratings and their follow-ups (差评整改)."""

from __future__ import annotations

from cityos.errors import PROBLEM_BASE, CityError


class InvalidRating(CityError):
    """A rating or a follow-up action that lacks or mistakes a field: the detail names it."""

    type = PROBLEM_BASE + "invalid-rating"
    title = "Invalid rating"
    status = 400


class NotRatable(CityError):
    """What is rated is not handled yet (an application still open, a case not closed)."""

    type = PROBLEM_BASE + "not-ratable-yet"
    title = "Not handled yet"
    status = 409


class AlreadyRated(CityError):
    """One rating per handled thing per rater (GB/T 39734's 一次一评): a second is refused, never merged."""

    type = PROBLEM_BASE + "already-rated"
    title = "Already rated"
    status = 409


class RatingNotFound(CityError):
    type = PROBLEM_BASE + "rating-not-found"
    title = "No such rating"
    status = 404


class FollowUpNotFound(CityError):
    type = PROBLEM_BASE + "follow-up-not-found"
    title = "No such follow-up"
    status = 404


class FollowUpActionRefused(CityError):
    """An action the follow-up's state does not allow: the detail names the state and the allowed actions."""

    type = PROBLEM_BASE + "follow-up-action-refused"
    title = "Action not allowed in this state"
    status = 409


class FollowUpActionForbidden(CityError):
    """An action by someone it is not for: another department's follow-up, or the rater's action by a clerk."""

    type = PROBLEM_BASE + "follow-up-action-forbidden"
    title = "Not this caller's action"
    status = 403
