"""Errors of the one-stop portal's login and of a citizen's or enterprise's own data (who used it, objections)."""

from __future__ import annotations

from cityos.errors import PROBLEM_BASE, CityError


class DemoLoginOff(CityError):
    """The demo identity provider is off: outside demo mode, unless CITYOS_ONESTOP_DEMO_LOGIN turns it on."""

    type = PROBLEM_BASE + "onestop-demo-login-off"
    title = "The demo login is off"
    status = 404


class WrongDemoCode(CityError):
    type = PROBLEM_BASE + "onestop-wrong-demo-code"
    title = "Wrong demo code"
    status = 401


class InvalidSubjectKey(CityError):
    """Neither a valid ID number nor a valid unified social credit code: the detail says what is wrong."""

    type = PROBLEM_BASE + "onestop-invalid-subject-key"
    title = "Not an ID number or a credit code"
    status = 400


class UnknownSubject(CityError):
    """A well-formed ID number or credit code that the data hub's base registries do not hold."""

    type = PROBLEM_BASE + "onestop-unknown-subject"
    title = "No such person or enterprise in the registries"
    status = 404


class NotASubject(CityError):
    """A route for a person's or an enterprise's own data called with another kind of token (a department's,
    an operator's): there is no "own" data to serve."""

    type = PROBLEM_BASE + "onestop-not-a-subject"
    title = "Not a person's or an enterprise's token"
    status = 400
