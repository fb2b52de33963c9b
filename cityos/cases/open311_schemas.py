"""The GeoReport v2 answers, described for ``/docs``. The Open311 routes answer the spec's own JSON or XML as
:mod:`cityos.cases.open311` builds it; these models only describe that JSON (a test checks that they agree).
Errors are the spec's list of ``code`` and ``description``, with the first error's code as the HTTP status."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field


class Service(BaseModel):
    service_code: str = Field(description="a sub-category code of the case taxonomy")
    service_name: str
    description: str
    metadata: bool = Field(description="true: GET services/{code} lists the attributes a request may carry")
    type: Literal["realtime", "batch", "blackbox"]
    keywords: str = Field(description="comma-separated")
    group: str = Field(description="the main category")


class AttributeValue(BaseModel):
    key: str
    name: str


class Attribute(BaseModel):
    variable: bool
    code: str
    datatype: str
    required: bool
    datatype_description: str
    order: int
    description: str
    values: list[AttributeValue]


class ServiceDefinition(BaseModel):
    service_code: str
    attributes: list[Attribute]


class ServiceRequest(BaseModel):
    service_request_id: str
    status: Literal["open", "closed"]
    status_notes: str | None
    service_name: str
    service_code: str
    description: str | None
    agency_responsible: str | None = Field(description="the department handling it")
    service_notice: str
    requested_datetime: str | None
    updated_datetime: str | None
    expected_datetime: str | None = Field(description="when it is due")
    address: str | None
    address_id: str | None
    zipcode: str | None
    lat: float | None
    long: float | None
    media_url: str | None


class PostedRequest(BaseModel):
    service_request_id: str
    token: str = Field(
        description="this report's own token (also when it was linked to an open request): GET tokens/{token}, "
        "and the follow link /cases/follow/{token}"
    )
    service_notice: str = Field(description="not empty when the report was linked to an open request it repeats")
    account_id: str | None


class RequestToken(BaseModel):
    service_request_id: str
    token: str


class Open311Error(BaseModel):
    """One error in the spec's error list; the first one's code is the HTTP status."""

    code: int
    description: str


_TEXT = {"type": "string"}
# The POST requests form (GeoReport v2): the route reads it itself; api_key may come in the query instead.
REQUEST_FORM = {
    "requestBody": {
        "required": True,
        "description": "A location is needed: lat and long, or address_string, or address_id",
        "content": {
            "application/x-www-form-urlencoded": {
                "schema": {
                    "type": "object",
                    "required": ["service_code"],
                    "properties": {
                        "api_key": {**_TEXT, "description": "the key cityos issued to the reporting app"},
                        "jurisdiction_id": _TEXT,
                        "service_code": {**_TEXT, "description": "a code of GET services"},
                        "lat": {"type": "number", "description": "WGS84"},
                        "long": {"type": "number", "description": "WGS84"},
                        "address_string": _TEXT,
                        "address_id": _TEXT,
                        "description": _TEXT,
                        "email": _TEXT,
                        "device_id": _TEXT,
                        "account_id": _TEXT,
                        "first_name": _TEXT,
                        "last_name": _TEXT,
                        "phone": _TEXT,
                        "media_url": _TEXT,
                    },
                    "additionalProperties": _TEXT,  # attribute[code]=value, as GET services/{code} lists them
                }
            }
        },
    }
}

ERROR_TEXT = {
    400: "A field is missing or not valid: the description names it",
    403: "The api_key is missing, unknown, or may not do this",
    404: "No such format, service, request, token or jurisdiction",
}


def documented(answer: Any, *statuses: int, errors: tuple[int, ...] = (400, 404)) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` of an Open311 route: ``answer`` as JSON (the default, or ``.json``) or as XML
    (``.xml``) for each of ``statuses`` (200 when none is given), and the spec's error list for ``errors``."""
    content = {"application/json": {}, "text/xml": {"schema": {"type": "string", "description": "the spec's XML"}}}
    out: dict[int | str, dict[str, Any]] = {
        status: {"model": answer, "content": content} for status in statuses or (200,)
    }
    for status in errors:
        out[status] = {"model": list[Open311Error], "description": ERROR_TEXT[status], "content": content}
    return out
