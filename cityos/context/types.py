"""Type and attribute discovery (NGSI-LD /types, /attributes): what a tenant's entities hold."""

from __future__ import annotations

from typing import Any

from cityos.context import store
from cityos.context.service import check_tenant_for_read
from cityos.runtime import Runtime


def type_counts(rt: Runtime, tenant: str) -> dict[str, int]:
    """Entities per type IRI of a tenant."""
    check_tenant_for_read(rt, tenant)
    with rt.db.connect() as conn:
        return store.type_counts(conn, tenant)


def attribute_usage(rt: Runtime, tenant: str, type_iri: str | None = None) -> dict[str, dict[str, Any]]:
    """Per attribute IRI (of entities of ``type_iri``, or all): how many entities have it (``count``), its
    kinds (Property, Relationship …) and the types of the entities that have it."""
    check_tenant_for_read(rt, tenant)
    with rt.db.connect() as conn:
        return store.attribute_usage(conn, tenant, rt.db.dialect, type_iri)
