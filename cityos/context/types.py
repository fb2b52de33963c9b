"""Type and attribute discovery (NGSI-LD /types, /attributes): what a tenant's entities hold."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from cityos.context import store
from cityos.context.service import check_tenant_for_read
from cityos.runtime import Runtime


def type_counts(rt: Runtime, tenant: str, not_types: Collection[str] = ()) -> dict[str, int]:
    """Entities per type IRI of a tenant (but ``not_types``)."""
    check_tenant_for_read(rt, tenant)
    with rt.db.connect() as conn:
        counts = store.type_counts(conn, tenant)
    return {t: n for t, n in counts.items() if t not in not_types}


def attribute_usage(
    rt: Runtime, tenant: str, type_iri: str | None = None, not_types: Collection[str] = ()
) -> dict[str, dict[str, Any]]:
    """Per attribute IRI (of entities of ``type_iri``, or all; entities of ``not_types`` not counted): how many
    entities have it (``count``), its kinds (Property, Relationship …) and the types of the entities that
    have it."""
    check_tenant_for_read(rt, tenant)
    with rt.db.connect() as conn:
        return store.attribute_usage(conn, tenant, rt.db.dialect, type_iri, not_types)
