"""NGSI-LD type and attribute discovery: /types, /types/{type}, /attributes, /attributes/{attr}.

Discovery by a department's token is governed too (cityos.context.governance): the types of which it may
read nothing (another department's 不予共享 entries, 有条件共享 ones with no grant for the scenario it
names) are left out, with their entity counts and with the attributes and attribute counts their entities
alone bring; a type described by name is answered 404 as if it had no entity. A type it may read is
listed with every attribute its entities hold, the names only (values are read, cut and masked, through
the entity and temporal routes); discovery reads no values, so it appends nothing to the audit chain.
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response

from cityos.context import types as svc
from cityos.context.api.ld import LdRead, LdRequest, ld_response, only_declared_params
from cityos.context.api.schemas import LD_PROBLEMS, answers
from cityos.context.entity import check_name
from cityos.context.errors import InvalidRequest, ResourceNotFound
from cityos.context.governance import unreadable_types

router = APIRouter(prefix="/ngsi-ld/v1", tags=["NGSI-LD types and attributes"], responses={**LD_PROBLEMS, **answers()})


def _hidden(ld: LdRequest, route: str) -> frozenset[str]:
    """The types the caller may read nothing of (none for a token of no department)."""
    return unreadable_types(ld.rt, ld.tenant, ld.caller(route))


def _usage(ld: LdRequest, hidden: frozenset[str], type_iri: str | None = None) -> dict[str, dict[str, Any]]:
    usage = svc.attribute_usage(ld.rt, ld.tenant, type_iri, hidden)
    if not hidden:
        return usage
    for info in usage.values():
        info["types"] = {t for t in info["types"] if t not in hidden}
    return {a: i for a, i in usage.items() if i["count"] and i["types"]}


# Each operation takes the parameters NGSI-LD lists for it and no other (ETSI 5710_01_03, 577_01_02). local=true
# changes nothing: this broker asks no context source.


@router.get("/types", summary="List entity types")
@only_declared_params
def list_types(ld: LdRead, details: bool = False, local: bool = False) -> Response:
    hidden = _hidden(ld, "GET /ngsi-ld/v1/types")
    counts = svc.type_counts(ld.rt, ld.tenant, hidden)
    names = sorted(counts)
    if not details:
        return ld_response(
            ld,
            {
                "id": f"urn:ngsi-ld:EntityTypeList:{uuid.uuid4()}",
                "type": "EntityTypeList",
                "typeList": [ld.tm.compact(t) for t in names],
            },
        )
    usage = _usage(ld, hidden)
    out = []
    for t in names:
        attrs = sorted(ld.tm.compact(a) for a, info in usage.items() if t in info["types"])
        out.append({"id": t, "type": "EntityType", "typeName": ld.tm.compact(t), "attributeNames": attrs})
    return ld_response(ld, out)


@router.get("/types/{type_name:path}", summary="Describe an entity type")
@only_declared_params
def get_type(type_name: str, ld: LdRead, local: bool = False, details: bool | None = None) -> Response:
    if not type_name:  # GET /types/ is the list, as clients that end the path with a slash ask for it
        return list_types(ld, bool(details))
    if details is not None:
        raise InvalidRequest("details goes with the type list (GET /types); describing one type takes only local")
    iri = ld.tm.expand(check_name(type_name, "entity type"))
    hidden = _hidden(ld, "GET /ngsi-ld/v1/types/{type}")
    count = svc.type_counts(ld.rt, ld.tenant, hidden).get(iri, 0)
    if not count:
        raise ResourceNotFound(f"no entity of type {type_name} exists", instance=type_name)
    attribute_details = [
        {"id": a, "type": "Attribute", "attributeName": ld.tm.compact(a), "attributeTypes": sorted(i["kinds"])}
        for a, i in sorted(_usage(ld, hidden, iri).items())
    ]
    return ld_response(
        ld,
        {
            "id": iri,
            "type": "EntityTypeInfo",
            "typeName": ld.tm.compact(iri),
            "entityCount": count,
            "attributeDetails": attribute_details,
        },
    )


def _attribute(a: str, info: dict[str, Any], ld: Any) -> dict[str, Any]:
    return {
        "id": a,
        "type": "Attribute",
        "attributeName": ld.tm.compact(a),
        "attributeCount": info["count"],
        "attributeTypes": sorted(info["kinds"]),
        "typeNames": sorted(ld.tm.compact(t) for t in info["types"]),
    }


@router.get("/attributes", summary="List attributes")
@only_declared_params
def list_attributes(ld: LdRead, details: bool = False, local: bool = False, count: bool = False) -> Response:
    usage = _usage(ld, _hidden(ld, "GET /ngsi-ld/v1/attributes"))
    if not details:
        return ld_response(
            ld,
            {
                "id": f"urn:ngsi-ld:AttributeList:{uuid.uuid4()}",
                "type": "AttributeList",
                "attributeList": sorted(ld.tm.compact(a) for a in usage),
            },
        )
    # the list's details carry the type names only (ETSI 026_01): attributeCount and attributeTypes, optional
    # in the Attribute data type (NGSI-LD v1.9, clause 5.2.28), come with GET /attributes/{attrId}
    brief = ("attributeCount", "attributeTypes")
    return ld_response(
        ld, [{k: v for k, v in _attribute(a, i, ld).items() if k not in brief} for a, i in sorted(usage.items())]
    )


@router.get("/attributes/{attr_name:path}", summary="Describe an attribute")
@only_declared_params
def get_attribute(attr_name: str, ld: LdRead, local: bool = False) -> Response:
    if not attr_name:  # GET /attributes/ is the list
        return list_attributes(ld)
    iri = ld.tm.expand(check_name(attr_name))
    info = _usage(ld, _hidden(ld, "GET /ngsi-ld/v1/attributes/{attrId}")).get(iri)
    if info is None:
        raise ResourceNotFound(f"no entity has the attribute {attr_name}", instance=attr_name)
    return ld_response(ld, _attribute(iri, info, ld))
