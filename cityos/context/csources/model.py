"""What a context source registration is once validated (NGSI-LD v1.8, clause 5.2.9)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

REGISTRATION_TYPE = "ContextSourceRegistration"
INCLUSIVE, EXCLUSIVE, REDIRECT, AUXILIARY = "inclusive", "exclusive", "redirect", "auxiliary"
MODES = (INCLUSIVE, EXCLUSIVE, REDIRECT, AUXILIARY)

# the operations a registration may name (NGSI-LD v1.8, clause 4.20, Table 4.20-1), and the groups that stand
# for several of them
RETRIEVE_OPS = (
    "retrieveEntity", "queryEntity", "queryBatch", "retrieveTemporal", "queryTemporal", "retrieveEntityTypes",
    "retrieveEntityTypeDetails", "retrieveEntityTypeInfo", "retrieveAttrTypes", "retrieveAttrTypeDetails",
    "retrieveAttrTypeInfo", "createSubscription", "updateSubscription", "retrieveSubscription",
    "querySubscription", "deleteSubscription", "entityMap", "canCompress",
)  # fmt: skip
WRITE_OPS = (
    "createEntity", "updateEntity", "appendAttrs", "updateAttrs", "deleteAttrs", "deleteEntity", "createBatch",
    "upsertBatch", "updateBatch", "deleteBatch", "upsertTemporal", "appendAttrsTemporal", "deleteAttrsTemporal",
    "updateAttrsTemporal", "deleteAttrInstanceTemporal", "deleteTemporal", "mergeEntity", "replaceEntity",
    "replaceAttrs", "mergeBatch", "purgeEntity",
)  # fmt: skip
GROUPS = {
    "federationOps": ("retrieveEntity", "queryEntity", "queryBatch", "retrieveEntityTypes",
                      "retrieveEntityTypeDetails", "retrieveEntityTypeInfo", "retrieveAttrTypes",
                      "retrieveAttrTypeDetails", "retrieveAttrTypeInfo", "createSubscription",
                      "updateSubscription", "retrieveSubscription", "querySubscription", "deleteSubscription"),
    "updateOps": ("updateEntity", "updateAttrs", "replaceEntity", "replaceAttrs"),
    "retrieveOps": ("retrieveEntity", "queryEntity"),
    "redirectionOps": ("createEntity", "updateEntity", "appendAttrs", "updateAttrs", "deleteAttrs",
                       "deleteEntity", "mergeEntity", "replaceEntity", "replaceAttrs", "retrieveEntity",
                       "queryEntity", "retrieveEntityTypes", "retrieveEntityTypeDetails", "retrieveEntityTypeInfo",
                       "retrieveAttrTypes", "retrieveAttrTypeDetails", "retrieveAttrTypeInfo"),
}  # fmt: skip
DEFAULT_OPERATIONS = ("federationOps",)


def operations_of(names: tuple[str, ...]) -> frozenset[str]:
    """The single operations ``names`` stand for, groups unfolded."""
    out: set[str] = set()
    for n in names:
        out.update(GROUPS.get(n, (n,)))
    return frozenset(out)


@dataclass(frozen=True)
class EntityInfo:
    """One member of a RegistrationInfo's ``entities``: a type IRI and an optional id or id pattern."""

    type: str
    id: str | None = None
    id_pattern: Any = None  # compiled by cityos.core.patterns (RE2): it has search()


@dataclass(frozen=True)
class RegistrationInfo:
    """One member of ``information``: the entities and the attributes (IRIs) the source provides; an empty
    tuple of entities means any entity, and no names at all means every attribute."""

    entities: tuple[EntityInfo, ...] = ()
    properties: frozenset[str] = frozenset()
    relationships: frozenset[str] = frozenset()

    @property
    def attributes(self) -> frozenset[str]:
        return self.properties | self.relationships


@dataclass
class Registration:
    """A validated registration with its names expanded."""

    id: str
    body: dict[str, Any]  # as stored: names as the client wrote them
    context: Any  # the @context its names are written in (None: the core context)
    information: tuple[RegistrationInfo, ...] = ()
    endpoint: str = ""
    mode: str = INCLUSIVE
    operations: frozenset[str] = field(default_factory=lambda: operations_of(DEFAULT_OPERATIONS))
    expires_at: str | None = None
    local_only: bool = False  # management.localOnly: the source answers only its own data

    def provides(self, operation: str) -> bool:
        return operation in self.operations


def new_id() -> str:
    """A fresh registration id."""
    return f"urn:ngsi-ld:ContextSourceRegistration:{uuid.uuid4()}"


def new_subscription_id() -> str:
    """A fresh csourceSubscription id."""
    return f"urn:ngsi-ld:Subscription:{uuid.uuid4()}"


@dataclass
class StoredRegistration:
    """A row of ``context_csource_registrations``."""

    tenant: str
    id: str
    body: dict[str, Any]
    context: Any
    mode: str
    endpoint: str
    expires_at: str | None
    created_at: str
    modified_at: str
