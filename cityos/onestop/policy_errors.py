"""Errors of policy matching (政策找人 · 免申即享): each names what is wrong and what to do."""

from __future__ import annotations

from cityos.errors import PROBLEM_BASE, CityError


class InvalidPolicy(CityError):
    """A policy file or a request that is not right: the detail names the policy and the field."""

    type = PROBLEM_BASE + "invalid-policy"
    title = "Invalid policy"
    status = 400


class PolicyNotFound(CityError):
    type = PROBLEM_BASE + "policy-not-found"
    title = "Policy not found"
    status = 404


class PolicyRunNotFound(CityError):
    type = PROBLEM_BASE + "policy-run-not-found"
    title = "Policy matching run not found"
    status = 404


class PolicyRunRefused(CityError):
    """The caller may not run this policy (another department's), or the department reads the registry under no
    grant for the policy-matching scenario: the detail names the grant to ask for."""

    type = PROBLEM_BASE + "policy-run-refused"
    title = "Policy matching run refused"
    status = 403


class NoticeNotFound(CityError):
    type = PROBLEM_BASE + "policy-notice-not-found"
    title = "Notice not found"
    status = 404


class NoticeMoveRefused(CityError):
    """A notice confirmed or declined already, or a notify-mode notice (nothing to confirm): the detail says."""

    type = PROBLEM_BASE + "policy-notice-move-refused"
    title = "The notice cannot move so"
    status = 409
