"""NGSI-LD error types (ETSI GS CIM 009, clause 5.5.2) as declared errors."""

from __future__ import annotations

from cityos.errors import CityError

NGSILD_ERRORS = "https://uri.etsi.org/ngsi-ld/errors/"


class NgsiLdError(CityError):
    type = NGSILD_ERRORS + "InternalError"
    title = "Internal error"
    status = 500


class InvalidRequest(NgsiLdError):
    """The request is not well formed: bad JSON, bad parameters, bad syntax."""

    type = NGSILD_ERRORS + "InvalidRequest"
    title = "Invalid request"
    status = 400


class BadRequestData(NgsiLdError):
    """The request is well formed but its content is not valid NGSI-LD."""

    type = NGSILD_ERRORS + "BadRequestData"
    title = "Bad request data"
    status = 400


class AlreadyExists(NgsiLdError):
    type = NGSILD_ERRORS + "AlreadyExists"
    title = "Already exists"
    status = 409


class OperationNotSupported(NgsiLdError):
    type = NGSILD_ERRORS + "OperationNotSupported"
    title = "Operation not supported"
    status = 422


class ResourceNotFound(NgsiLdError):
    type = NGSILD_ERRORS + "ResourceNotFound"
    title = "Resource not found"
    status = 404


class TooComplexQuery(NgsiLdError):
    type = NGSILD_ERRORS + "TooComplexQuery"
    title = "Too complex query"
    status = 403


class TooManyResults(NgsiLdError):
    type = NGSILD_ERRORS + "TooManyResults"
    title = "Too many results"
    status = 403


class LdContextNotAvailable(NgsiLdError):
    """A remote @context could not be fetched: 504, as NGSI-LD v1.9 (clause 6.3.4) maps it (ETSI 043_01)."""

    type = NGSILD_ERRORS + "LdContextNotAvailable"
    title = "JSON-LD @context not available"
    # 504 Gateway Timeout, as NGSI-LD v1.9.1 maps it (clause 6.3.4, Table 6.3.4-1): the server is the client
    # of the @context's server, which did not answer with a usable document
    status = 504


class NonexistentTenant(NgsiLdError):
    type = NGSILD_ERRORS + "NonexistentTenant"
    title = "Nonexistent tenant"
    status = 404


class InternalError(NgsiLdError):
    pass


class NotYourEntity(NgsiLdError):
    """A department's token changes only the entities its department owns (NGSI-LD names no such error)."""

    type = "https://cityos.dev/problems/not-your-entity"
    title = "Entity owned by another department"
    status = 403


class NotYourSubscription(NgsiLdError):
    """A department's token changes and deletes only the subscriptions its department made: another's
    endpoint, once changed, would receive what that department may read."""

    type = "https://cityos.dev/problems/not-your-subscription"
    title = "Subscription made by another department"
    status = 403


class Conflict(NgsiLdError):
    """The operation conflicts with what is held (NGSI-LD v1.8, clause 5.5.2): e.g. an exclusive or redirect
    registration over an entity this hub already holds."""

    type = NGSILD_ERRORS + "Conflict"
    title = "Conflict"
    status = 409
