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


class JsonTooDeep(InvalidInput):
    """JSON nested deeper than the one limit every body keeps (``CITYOS_MAX_JSON_DEPTH``)."""

    type = PROBLEM_BASE + "json-too-deep"
    title = "JSON nested too deeply"


class TooManyRequests(CityError):
    """Too many requests from one client address or with one token; ``retryAfter``: seconds to wait."""

    type = PROBLEM_BASE + "too-many-requests"
    title = "Too many requests"
    status = 429


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


class Unavailable(CityError):
    """A part the request needs is not ready yet (it is loading) or not reachable; try again later."""

    type = PROBLEM_BASE + "unavailable"
    title = "Not available yet"
    status = 503


# --- the problem document in the API description ---------------------------------------------------

_STATUS_TEXT = {
    400: "The request is not valid: the detail names the parameter or field and what it must be",
    401: "No valid bearer token: send 'Authorization: Bearer <token>'",
    403: "The token's role, tenant or department does not allow this",
    404: "There is no such resource",
    405: "The method is not allowed here",
    406: "The response cannot be given in the media type asked for",
    409: "The resource exists already, or changed meanwhile, or its state does not allow this",
    413: "The request body is too large",
    415: "The request body's media type is not supported",
    429: "Too many requests from this address or with this token: try again after Retry-After seconds",
    422: "The request is understood but cannot be carried out as asked: the detail says what would do",
    503: "A part this request needs is not ready yet or not reachable: try again (see Retry-After)",
    504: "A resource this request names (a remote JSON-LD @context) could not be fetched in time",
}


def problem_schema() -> dict[str, Any]:
    """The JSON schema of an RFC 9457 problem document as cityos sends it."""
    return {
        "title": "Problem",
        "type": "object",
        "description": "An RFC 9457 problem document; NGSI-LD errors carry the NGSI-LD error type URIs.",
        "required": ["type", "title", "status", "detail"],
        "properties": {
            "type": {"type": "string", "format": "uri", "description": "The kind of problem (a stable URI)."},
            "title": {"type": "string", "description": "A short summary of the kind of problem."},
            "status": {"type": "integer", "description": "The HTTP status code."},
            "detail": {"type": "string", "description": "What went wrong and what to do about it."},
            "instance": {"type": "string", "description": "The resource the problem is about, when there is one."},
        },
        "additionalProperties": True,
    }


_RETRY_AFTER = {
    "Retry-After": {"description": "Seconds to wait before trying again", "schema": {"type": "integer", "minimum": 0}}
}


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries for these error statuses, each a problem document (429 and 503 with
    their Retry-After header)."""
    ref = {"$ref": "#/components/schemas/Problem"}
    out: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        entry: dict[str, Any] = {
            "description": _STATUS_TEXT.get(status, "Error"),
            "content": {"application/problem+json": {"schema": ref}, "application/json": {"schema": ref}},
        }
        if status in (429, 503):
            entry["headers"] = _RETRY_AFTER
        out[status] = entry
    return out
