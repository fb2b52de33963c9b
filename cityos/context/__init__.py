"""The city data hub (城市智能中枢 · 数据中枢): every city thing an NGSI-LD entity in one graph, its history
kept with every change, served through the ETSI NGSI-LD API.

This module is the hub's public face: other packages use the hub only through what it exports here
(``import-linter`` keeps it so, see ``.importlinter``). Inside, the hub is organised by concern:

* entities: ``entity`` (parsing), ``service`` (writes through :func:`apply`, reads), ``store``, ``render``;
* ``telemetry``: :func:`observe`, a batch of observations of many entities in a few set statements;
* queries: ``query``, ``qlang`` (the q language), ``qeval`` (q in Python), ``sqlq`` (q in SQL), ``geo``;
* JSON-LD: ``jsonld`` (term maps, the core @context), ``contexts`` (stored user @contexts);
* ``temporal``: the attribute history, its reads, retention and use cases;
* ``subscriptions``: parsing, matching, storage, the notifier and delivery;
* ``api``: the NGSI-LD routes; ``types``: type and attribute discovery.

Entity events are published on the bus after their commit (``events``: ``entity.created``,
``entity.updated``, ``entity.deleted``, with what their data holds).
"""

from typing import Any

from cityos.context.component import component
from cityos.context.contexts import resolver as _resolver
from cityos.context.entity import VALUE_MEMBER, ParsedEntity, TermMap, check_entity_id, parse_entity
from cityos.context.errors import (
    BadRequestData,
    InternalError,
    InvalidRequest,
    NgsiLdError,
    NonexistentTenant,
    ResourceNotFound,
)
from cityos.context.events import ENTITY_CREATED, ENTITY_DELETED, ENTITY_EVENTS, ENTITY_UPDATED
from cityos.context.governance import NO_FILTERS, Filtered, Mask, ReadCaller, ReadGuard, Sight, install_read_guard
from cityos.context.jsonld import core_term_map
from cityos.context.qeval import eval_q
from cityos.context.qlang import QExpr, parse_q, q_attributes, q_exact, q_lookups
from cityos.context.query import (
    EntityQuery,
    QueryResult,
    attribute_chunks,
    entities_changed,
    entities_of_types,
    query_entities,
)
from cityos.context.render import PageNames, key_values, key_values_page, simple_value
from cityos.context.service import (
    CITY,
    Attrs,
    Change,
    Mutation,
    Outcome,
    Writer,
    adopt,
    apply,
    apply_async,
    find_entity,
    get_entity,
    keep_shadows,
    keepers,
    m_append,
    m_create,
    m_delete,
    m_merge,
    m_observe,
    m_replace,
    m_set_values,
    one,
    one_async,
)
from cityos.context.store import EntityRow
from cityos.context.telemetry import Observed, ObserveResult, observe
from cityos.context.temporal.retention import CompactReport, Policy, compact, set_policy
from cityos.context.temporal.retention import policies as retention_policies
from cityos.context.temporal.service import attribute_history
from cityos.runtime import Runtime


def term_map(rt: Runtime, context: str | dict[str, Any] | list[Any] | None = None) -> TermMap:
    """The term map of a JSON-LD @context (None: the core @context); may fetch a remote one."""
    return _resolver(rt).resolve(context)


__all__ = [
    "CITY",
    "ENTITY_CREATED",
    "ENTITY_DELETED",
    "ENTITY_EVENTS",
    "ENTITY_UPDATED",
    "NO_FILTERS",
    "VALUE_MEMBER",
    "Attrs",
    "BadRequestData",
    "Change",
    "CompactReport",
    "EntityQuery",
    "EntityRow",
    "Filtered",
    "InternalError",
    "InvalidRequest",
    "Mask",
    "Mutation",
    "NgsiLdError",
    "NonexistentTenant",
    "ObserveResult",
    "Observed",
    "Outcome",
    "PageNames",
    "ParsedEntity",
    "Policy",
    "QExpr",
    "QueryResult",
    "ReadCaller",
    "ReadGuard",
    "ResourceNotFound",
    "Sight",
    "TermMap",
    "Writer",
    "adopt",
    "apply",
    "apply_async",
    "attribute_chunks",
    "attribute_history",
    "check_entity_id",
    "compact",
    "component",
    "core_term_map",
    "entities_changed",
    "entities_of_types",
    "eval_q",
    "find_entity",
    "get_entity",
    "install_read_guard",
    "keep_shadows",
    "keepers",
    "key_values",
    "key_values_page",
    "m_append",
    "m_create",
    "m_delete",
    "m_merge",
    "m_observe",
    "m_replace",
    "m_set_values",
    "observe",
    "one",
    "one_async",
    "parse_entity",
    "parse_q",
    "q_attributes",
    "q_exact",
    "q_lookups",
    "query_entities",
    "retention_policies",
    "set_policy",
    "simple_value",
    "term_map",
]
