"""Declared errors. Each has a stable type URI, an HTTP status and a message a person can act on.

One handler (``cityos.app``) renders every error as an RFC 9457 problem document.
"""

from __future__ import annotations

from typing import Any, ClassVar

PROBLEM_BASE = "https://cityos.dev/problems/"


class CityError(Exception):
    """Base of every error the API may return on purpose."""

    type: ClassVar[str] = PROBLEM_BASE + "internal-error"
    title: ClassVar[str] = "Internal error"
    status: ClassVar[int] = 500

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra

    def problem(self, instance: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"type": self.type, "title": self.title, "status": self.status, "detail": self.detail}
        if instance:
            body["instance"] = instance
        body.update(self.extra)
        return body


class Unauthenticated(CityError):
    type = PROBLEM_BASE + "unauthenticated"
    title = "Authentication required"
    status = 401


class Forbidden(CityError):
    type = PROBLEM_BASE + "forbidden"
    title = "Not allowed"
    status = 403


class NotFound(CityError):
    type = PROBLEM_BASE + "not-found"
    title = "Not found"
    status = 404


class InvalidInput(CityError):
    type = PROBLEM_BASE + "invalid-input"
    title = "Invalid input"
    status = 400


class PayloadTooLarge(CityError):
    type = PROBLEM_BASE + "payload-too-large"
    title = "Request body too large"
    status = 413


class UnsupportedMediaType(CityError):
    type = PROBLEM_BASE + "unsupported-media-type"
    title = "Unsupported media type"
    status = 415


class NotAcceptable(CityError):
    type = PROBLEM_BASE + "not-acceptable"
    title = "Not acceptable"
    status = 406


class MethodNotAllowed(CityError):
    type = PROBLEM_BASE + "method-not-allowed"
    title = "Method not allowed"
    status = 405


class HttpProblem(CityError):
    """Any other HTTP error raised by the framework, with its own status."""

    type = PROBLEM_BASE + "http-error"
    title = "HTTP error"

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status  # type: ignore[misc]
