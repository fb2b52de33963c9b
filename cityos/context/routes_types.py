"""NGSI-LD type and attribute discovery: /types, /types/{type}, /attributes, /attributes/{attr}."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response

from cityos.context import store
from cityos.context.entity import check_name
from cityos.context.errors import ResourceNotFound
from cityos.context.http import Ld, ld_response
from cityos.context.service import check_tenant_for_read

router = APIRouter(prefix="/ngsi-ld/v1", tags=["NGSI-LD types and attributes"])


def _usage(rt: Any, tenant: str, type_iri: str | None = None) -> dict[str, dict[str, Any]]:
    with rt.db.connect() as conn:
        return store.attribute_usage(conn, tenant, rt.db.dialect, type_iri)


@router.get("/types", summary="List entity types")
def list_types(ld: Ld, details: bool = False) -> Response:
    ld.allow("entities:read")
    rt = ld.rt
    tenant = ld.tenant
    check_tenant_for_read(rt, tenant)
    with rt.db.connect() as conn:
        counts = store.type_counts(conn, tenant)
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
    usage = _usage(rt, tenant)
    out = []
    for t in names:
        attrs = sorted(ld.tm.compact(a) for a, info in usage.items() if t in info["types"])
        out.append({"id": t, "type": "EntityType", "typeName": ld.tm.compact(t), "attributeNames": attrs})
    return ld_response(ld, out)


@router.get("/types/{type_name:path}", summary="Describe an entity type")
def get_type(type_name: str, ld: Ld) -> Response:
    ld.allow("entities:read")
    rt = ld.rt
    tenant = ld.tenant
    check_tenant_for_read(rt, tenant)
    iri = ld.tm.expand(check_name(type_name, "entity type"))
    with rt.db.connect() as conn:
        count = store.type_counts(conn, tenant).get(iri, 0)
    if not count:
        raise ResourceNotFound(f"no entity of type {type_name} exists", instance=type_name)
    details = [
        {"id": a, "type": "Attribute", "attributeName": ld.tm.compact(a), "attributeTypes": sorted(i["kinds"])}
        for a, i in sorted(_usage(rt, tenant, iri).items())
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
def list_attributes(ld: Ld, details: bool = False) -> Response:
    ld.allow("entities:read")
    rt = ld.rt
    tenant = ld.tenant
    check_tenant_for_read(rt, tenant)
    usage = _usage(rt, tenant)
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
def get_attribute(attr_name: str, ld: Ld) -> Response:
    ld.allow("entities:read")
    rt = ld.rt
    tenant = ld.tenant
    check_tenant_for_read(rt, tenant)
    iri = ld.tm.expand(check_name(attr_name))
    info = _usage(rt, tenant).get(iri)
    if info is None:
        raise ResourceNotFound(f"no entity has the attribute {attr_name}", instance=attr_name)
    return ld_response(ld, _attribute(iri, info, ld))
