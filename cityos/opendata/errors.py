"""The CKAN Action API's errors, as CKAN answers them: ``{"help", "success": false, "error": {"__type",
"message"}}`` with CKAN's ``__type`` names and HTTP statuses, which clients such as ``ckanapi`` map to their
own exceptions. A Validation Error carries its field errors in place of a message, as CKAN's do:
``{"__type": "Validation Error", "rows": ["Invalid integer"]}``.

A request CKAN does not take as an action call at all (an action it does not know, a body that is not a
JSON object) is answered as CKAN answers it: 400 with a JSON string, ``"Bad request - ..."``.
"""

from __future__ import annotations

from typing import Any, ClassVar


class CkanError(Exception):
    """An error an action answers on purpose: its CKAN ``__type``, HTTP status and what to do."""

    kind: ClassVar[str] = "Internal Server Error"
    status: ClassVar[int] = 500
    prefix: ClassVar[str] = ""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def error(self) -> dict[str, Any]:
        return {"__type": self.kind, "message": f"{self.prefix}{self.message}"}


class NotFoundError(CkanError):
    kind = "Not Found Error"
    status = 404
    prefix = "Not found: "


class AuthorizationError(CkanError):
    kind = "Authorization Error"
    status = 403
    prefix = "Access denied: "


class SearchQueryError(CkanError):
    """A search the portal cannot parse (q, fq, sort, facet fields): 400, as CKAN answers it."""

    kind = "Search Query Error"
    status = 400
    prefix = "Search Query is invalid: "


class ValidationError(CkanError):
    """Parameters an action cannot take: field -> what is wrong with it (409)."""

    kind = "Validation Error"
    status = 409

    def __init__(self, fields: dict[str, list[str]]) -> None:
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in fields.items()))
        self.fields = fields

    def error(self) -> dict[str, Any]:
        return {"__type": self.kind, **self.fields}


def invalid(field: str, message: str) -> ValidationError:
    return ValidationError({field: [message]})


class BadRequest(Exception):
    """Not an action call CKAN takes: 400 with the JSON string ``"Bad request - <detail>"``."""

    status = 400

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail

    def body(self) -> str:
        return f"Bad request - {self.detail}"
