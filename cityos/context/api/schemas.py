"""The NGSI-LD request and answer bodies in the API description (ETSI GS CIM 009): JSON schemas of what
the routes read themselves (an entity, an attribute fragment, a batch, a temporal entity, a Query, a
subscription, an @context) and of the answers that are not entities (batch and update results).

The routes parse their bodies with :mod:`cityos.context.entity` and friends, which accept the normalized
and the concise representations; these schemas describe the same and are never stricter than the parsers
(a value the schema allows may still be refused with a 400 that names the member). A body sent as
``application/ld+json`` carries its ``@context``; one sent as ``application/json`` does not (the context
then comes in a ``Link`` header).
"""

from __future__ import annotations

from typing import Any

from cityos.errors import problem_responses

JSON = "application/json"
JSONLD = "application/ld+json"
GEOJSON = "application/geo+json"
MERGE_PATCH = "application/merge-patch+json"
REF = "#/components/schemas/"
Responses = dict[int | str, dict[str, Any]]  # the `responses` of a route


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": REF + name}


_URI = {"type": "string", "format": "uri", "description": "a URI, e.g. urn:ngsi-ld:Street:waitan"}
_NAMES = {"type": "array", "items": {"type": "string"}, "description": "attribute names (terms or IRIs)"}
_GEOMETRY_TYPES = ["Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon"]


def _attribute(kind: str, member: str, value: dict[str, Any], extra: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "type": "object",
        "description": f"A {kind} in normalized form; other members are its sub-attributes.",
        "required": ["type", member],
        "properties": {
            "type": {"const": kind},
            member: value,
            "observedAt": {"type": "string", "format": "date-time"},
            "datasetId": _URI,
            **(extra or {}),
        },
    }


def schemas() -> dict[str, dict[str, Any]]:
    """The schema components the NGSI-LD routes refer to, by name."""
    geometry = {
        "type": "object",
        "description": "A GeoJSON geometry.",
        "required": ["type", "coordinates"],
        "properties": {"type": {"enum": _GEOMETRY_TYPES}, "coordinates": {"type": "array"}},
    }
    concise = {
        "description": "Concise form: the value itself (an object without 'type' is a compound value, a GeoJSON "
        "geometry a GeoProperty); null is not a value.",
        "not": {"type": "null"},
    }
    kinds = [
        _attribute("Property", "value", {"not": {"type": "null"}}, {"unitCode": {"type": "string", "minLength": 1}}),
        _attribute("Relationship", "object", {"anyOf": [_URI, {"type": "array", "items": _URI}]}),
        _attribute("GeoProperty", "value", _ref("GeoJsonGeometry")),
        _attribute("LanguageProperty", "languageMap", {"type": "object", "additionalProperties": {"type": "string"}}),
        _attribute("JsonProperty", "json", {"not": {"type": "null"}}),
        _attribute("VocabProperty", "vocab", {"anyOf": [{"type": "string"}, {"type": "array"}]}),
        _attribute("ListProperty", "valueList", {"type": "array"}),
        _attribute("ListRelationship", "objectList", {"type": "array"}),
    ]
    context = {
        "description": "A JSON-LD @context: a URL, an object of term definitions, or a list of them. Only in a "
        "body sent as application/ld+json.",
        "anyOf": [{"type": "string"}, {"type": "object"}, {"type": "array"}],
    }
    types = {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}, "minItems": 1}]}
    members = {
        "id": _URI,
        "type": types,
        "scope": {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]},
        "@context": _ref("LdContext"),
    }
    instances = {"anyOf": [{"type": "array", "items": _ref("NgsiLdAttribute"), "minItems": 1}, _ref("NgsiLdAttribute")]}
    selector = {
        "type": "object",
        "description": "Which entities: by id, by idPattern (a regular expression) or by type.",
        "properties": {"id": _URI, "idPattern": {"type": "string"}, "type": {"type": "string"}},
    }
    geo_q = {
        "type": "object",
        "properties": {
            "geometry": {"type": "string"},
            "coordinates": {"anyOf": [{"type": "string"}, {"type": "array"}]},
            "georel": {"type": "string", "description": "near;maxDistance==N, within, intersects …"},
            "geoproperty": {"type": "string"},
        },
    }
    temporal_q = {
        "type": "object",
        "properties": {
            "timerel": {"enum": ["before", "after", "between"]},
            "timeAt": {"type": "string", "format": "date-time"},
            "endTimeAt": {"type": "string", "format": "date-time"},
            "timeproperty": {"enum": ["observedAt", "createdAt", "modifiedAt", "deletedAt"]},
        },
    }
    query = {
        "type": "object",
        "description": "An NGSI-LD Query (temporalQ: in a temporal query).",
        "properties": {
            "type": {"const": "Query"},
            "entities": {"type": "array", "items": _ref("NgsiLdEntitySelector")},
            "attrs": _NAMES,
            "q": {"type": "string", "description": "the NGSI-LD query language, e.g. pm25>100"},
            "geoQ": geo_q,
            "temporalQ": temporal_q,
            "@context": _ref("LdContext"),
        },
    }
    key_values = {
        "type": "array",
        "items": {
            "type": "object",
            "required": ["key", "value"],
            "properties": {"key": {"type": "string"}, "value": {"type": "string"}},
        },
    }
    endpoint = {
        "type": "object",
        "required": ["uri"],
        "properties": {
            "uri": {"type": "string", "description": "an http://, https://, mqtt:// or mqtts:// URL"},
            "accept": {"enum": [JSON, JSONLD]},
            "receiverInfo": key_values,
            "notifierInfo": key_values,
        },
    }
    notification = {
        "type": "object",
        "required": ["endpoint"],
        "properties": {
            "attributes": _NAMES,
            "format": {"enum": ["normalized", "keyValues", "concise"]},
            "endpoint": endpoint,
        },
    }
    subscription_members = {
        "id": _URI,
        "type": {"const": "Subscription"},
        "subscriptionName": {"type": "string"},
        "description": {"type": "string"},
        "entities": {"type": "array", "items": _ref("NgsiLdEntitySelector"), "minItems": 1},
        "watchedAttributes": _NAMES,
        "q": {"type": "string"},
        "geoQ": geo_q,
        "notification": notification,
        "throttling": {"type": "number", "minimum": 0},
        "timeInterval": {"type": "number", "exclusiveMinimum": 0},
        "expiresAt": {"type": "string", "format": "date-time"},
        "isActive": {"type": "boolean"},
        "@context": _ref("LdContext"),
    }
    return {
        "GeoJsonGeometry": geometry,
        "LdContext": context,
        "NgsiLdAttribute": {
            "description": "An attribute, normalized or concise; several instances (by datasetId) are a list.",
            "anyOf": [*kinds, concise],
        },
        "NgsiLdEntity": {
            "type": "object",
            "description": "An NGSI-LD entity; every other member is an attribute.",
            "required": ["id", "type"],
            "properties": members,
            "additionalProperties": _ref("NgsiLdAttribute"),
        },
        "NgsiLdEntityFragment": {
            "type": "object",
            "description": "Members of an entity: attributes, and type or scope (an id must be the URL's). In a "
            "merge, an attribute whose value is urn:ngsi-ld:null (or null) is deleted.",
            "properties": members,
            "additionalProperties": {"anyOf": [_ref("NgsiLdAttribute"), {"type": "null"}]},
        },
        "NgsiLdAttributeFragment": {
            "type": "object",
            "description": 'The members of one attribute to change, e.g. {"value": 21.5}; other members are its '
            "sub-attributes.",
            "properties": {
                "type": {"type": "string"},
                "value": {},
                "object": {},
                "observedAt": {"type": "string", "format": "date-time"},
                "unitCode": {"type": "string"},
                "datasetId": _URI,
                "@context": _ref("LdContext"),
            },
        },
        "NgsiLdTemporalEntity": {
            "type": "object",
            "description": "An entity whose attributes are lists of instances in time (each with observedAt).",
            "required": ["id", "type"],
            "properties": members,
            "additionalProperties": instances,
        },
        "NgsiLdTemporalFragment": {
            "type": "object",
            "description": "Attributes of an entity, each a list of instances in time (an id must be the URL's).",
            "properties": members,
            "additionalProperties": instances,
        },
        "NgsiLdEntitySelector": selector,
        "NgsiLdQuery": query,
        "NgsiLdSubscription": {
            "type": "object",
            "description": "A subscription: which entities or attributes to watch, and where to notify. It needs "
            "entities or watchedAttributes.",
            "required": ["type", "notification"],
            "properties": subscription_members,
        },
        "NgsiLdSubscriptionFragment": {
            "type": "object",
            "description": "Members of a subscription to change; null removes a member.",
            "properties": subscription_members,
        },
        "NgsiLdCSourceRegistration": {
            "type": "object",
            "description": "A context source registration (NGSI-LD 5.2.9): what another broker or source holds "
            "(information) and where to ask it (endpoint); mode, operations, expiresAt and management optional.",
            "required": ["type", "information", "endpoint"],
            "properties": {
                "id": {"type": "string"},
                "type": {"type": "string", "enum": ["ContextSourceRegistration"]},
                "information": {"type": "array", "items": {"type": "object"}, "minItems": 1},
                "endpoint": {"type": "string", "format": "uri"},
                "mode": {"type": "string", "enum": ["inclusive", "exclusive", "redirect", "auxiliary"]},
                "operations": {"type": "array", "items": {"type": "string"}},
                "expiresAt": {"type": "string", "format": "date-time"},
                "management": {"type": "object"},
            },
        },
        "NgsiLdCSourceRegistrationFragment": {
            "type": "object",
            "description": "Members of a context source registration to change; null removes a member.",
        },
        "LdContextDocument": {
            "type": "object",
            "required": ["@context"],
            "properties": {"@context": _ref("LdContext")},
        },
        "NgsiLdBatchResult": {
            "type": "object",
            "description": "What a batch did: the ids it changed, and the error of each entity it did not.",
            "required": ["success", "errors"],
            "properties": {
                "success": {"type": "array", "items": {"type": "string"}},
                "errors": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {"entityId": {"type": "string"}, "error": _ref("Problem")},
                    },
                },
            },
        },
        "NgsiLdUpdateResult": {
            "type": "object",
            "description": "The attributes changed, and why the others were not.",
            "required": ["updated", "notUpdated"],
            "properties": {
                "updated": {"type": "array", "items": {"type": "string"}},
                "notUpdated": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {"attributeName": {"type": "string"}, "reason": {"type": "string"}},
                    },
                },
            },
        },
    }


# A body the NGSI-LD routes read is JSON, JSON-LD or a merge patch; another media type is a 415.
OTHER_MEDIA = {str(status): entry for status, entry in problem_responses(415).items()}


def _with_context(schema: dict[str, Any]) -> dict[str, Any]:
    return {"allOf": [schema, {"type": "object", "required": ["@context"]}]}


def ld_body(name: str, *, array: bool = False, merge_patch: bool = False, description: str = "") -> dict[str, Any]:
    """``openapi_extra`` of a route that reads a ``name`` body (a list of them with ``array``): as JSON, as
    JSON-LD with its @context, and as a JSON merge patch (the same as JSON) with ``merge_patch``."""
    plain: dict[str, Any] = _ref(name)
    ld = _with_context(plain)
    if array:
        plain = {"type": "array", "items": plain, "minItems": 1}
        ld = {"type": "array", "items": ld, "minItems": 1}
    content = {JSON: {"schema": plain}, JSONLD: {"schema": ld}}
    if merge_patch:
        content[MERGE_PATCH] = {"schema": plain}
    body = {"required": True, "description": description or name, "content": content}
    return {"requestBody": body, "responses": OTHER_MEDIA}


def id_list() -> dict[str, Any]:
    """``openapi_extra`` of a route that reads a list of entity ids (a JSON-LD one carries no @context)."""
    ids = {"type": "array", "items": _URI, "minItems": 1}
    content = {JSON: {"schema": ids}, JSONLD: {"schema": ids}}
    body = {"required": True, "description": "the ids of the entities", "content": content}
    return {"requestBody": body, "responses": OTHER_MEDIA}


def answers(status: int = 200, schema: dict[str, Any] | None = None, *, geojson: bool = False) -> Responses:
    """The ``responses`` entry of an NGSI-LD answer: JSON, or JSON-LD when asked for (and GeoJSON)."""
    shape = schema or {}
    media = [JSON, JSONLD] + ([GEOJSON] if geojson else [])
    return {status: {"description": "The answer", "content": {m: {"schema": shape} for m in media}}}


def created(what: str) -> Responses:
    """The ``responses`` entry of a route that creates ``what`` and answers 201 without a body (with
    ``response_class=Response``: no media type to describe)."""
    location = {"description": f"The path of the {what}", "schema": {"type": "string"}}
    return {201: {"description": f"Created: Location names the {what}", "headers": {"Location": location}}}


BATCH_RESULT = _ref("NgsiLdBatchResult")
UPDATE_RESULT = _ref("NgsiLdUpdateResult")
# Every NGSI-LD request negotiates its media type (406) and may need a remote @context (504).
LD_PROBLEMS: Responses = problem_responses(406, 504)
