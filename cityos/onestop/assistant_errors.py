"""Errors of the Q&A assistant (智能客服)."""

from __future__ import annotations

from cityos.errors import PROBLEM_BASE, CityError


class InvalidQuestion(CityError):
    """An empty question, or one longer than the assistant takes: the detail says which and the limit."""

    type = PROBLEM_BASE + "invalid-question"
    title = "The question cannot be asked"
    status = 400


class HandoverNotFound(CityError):
    type = PROBLEM_BASE + "handover-not-found"
    title = "No such handover"
    status = 404


class HandoverAnswered(CityError):
    """A handover answered already: an answer is given once (a second one would overwrite what was told)."""

    type = PROBLEM_BASE + "handover-answered"
    title = "The handover is answered already"
    status = 409
