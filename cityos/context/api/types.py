"""NGSI-LD type and attribute discovery: /types, /types/{type}, /attributes, /attributes/{attr}."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response

from cityos.context import types as svc
from cityos.context.api.ld import LdRead, ld_response
from cityos.context.api.schemas import LD_PROBLEMS, answers
from cityos.context.entity import check_name
from cityos.context.errors import ResourceNotFound

router = APIRouter(prefix="/ngsi-ld/v1", tags=["NGSI-LD types and attributes"], responses={**LD_PROBLEMS, **answers()})


@router.get("/types", summary="List entity types")
def list_types(ld: LdRead, details: bool = False) -> Response:
    counts = svc.type_counts(ld.rt, ld.tenant)
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
    usage = svc.attribute_usage(ld.rt, ld.tenant)
    out = []
    for t in names:
        attrs = sorted(ld.tm.compact(a) for a, info in usage.items() if t in info["types"])
        out.append({"id": t, "type": "EntityType", "typeName": ld.tm.compact(t), "attributeNames": attrs})
    return ld_response(ld, out)


@router.get("/types/{type_name:path}", summary="Describe an entity type")
def get_type(type_name: str, ld: LdRead) -> Response:
    iri = ld.tm.expand(check_name(type_name, "entity type"))
    count = svc.type_counts(ld.rt, ld.tenant).get(iri, 0)
    if not count:
        raise ResourceNotFound(f"no entity of type {type_name} exists", instance=type_name)
    details = [
        {"id": a, "type": "Attribute", "attributeName": ld.tm.compact(a), "attributeTypes": sorted(i["kinds"])}
        for a, i in sorted(svc.attribute_usage(ld.rt, ld.tenant, iri).items())
    ]
    return ld_response(
        ld,
        {
            "id": iri,
            "type": "EntityTypeInfo",
            "typeName": ld.tm.compact(iri),
            "entityCount": count,
            "attributeDetails": details,
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
def list_attributes(ld: LdRead, details: bool = False) -> Response:
    usage = svc.attribute_usage(ld.rt, ld.tenant)
    if not details:
        return ld_response(
            ld,
            {
                "id": f"urn:ngsi-ld:AttributeList:{uuid.uuid4()}",
                "type": "AttributeList",
                "attributeList": sorted(ld.tm.compact(a) for a in usage),
            },
        )
    return ld_response(ld, [_attribute(a, i, ld) for a, i in sorted(usage.items())])


@router.get("/attributes/{attr_name:path}", summary="Describe an attribute")
def get_attribute(attr_name: str, ld: LdRead) -> Response:
    iri = ld.tm.expand(check_name(attr_name))
    info = svc.attribute_usage(ld.rt, ld.tenant).get(iri)
    if info is None:
        raise ResourceNotFound(f"no entity has the attribute {attr_name}", instance=attr_name)
    return ld_response(ld, _attribute(iri, info, ld))
