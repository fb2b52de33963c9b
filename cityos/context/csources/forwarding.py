"""Distributed reads (NGSI-LD v1.8, clauses 4.3.6 and 5.7): Retrieve Entity and Query Entities asked of the
context sources a tenant registered (modes inclusive and auxiliary), their answers merged with the hub's.

An inclusive source's entities and attributes count as if held here; an auxiliary source's only fill what
the hub (and the inclusive sources) lack. A source that fails, times out or answers nonsense is left out
with a warning: a read never fails because of one. ``local=true`` asks no source. When a tenant has no such
registration the cost is one look-up in a per-process count (:func:`has_sources`), so local reads keep their
speed; exclusive and redirect registrations are not acted on here.

Requests go out with the caller's ``Link`` header (the @context the names are written in), the
registration's ``tenant`` as ``NGSILD-Tenant``, and a ``Via`` entry naming this process: a request that comes
back with it is answered from local data only, so two hubs registered at each other do not loop.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlsplit

import httpx

from cityos.context.csources.matching import Discovery
from cityos.context.csources.model import AUXILIARY, INCLUSIVE, Registration
from cityos.context.csources.storage import has_sources, list_registrations, registration_of
from cityos.context.entity import TermMap, parse_entity
from cityos.context.errors import BadRequestData, NgsiLdError, ResourceNotFound
from cityos.context.qlang import parse_q, parse_type_expr
from cityos.context.store import EntityRow
from cityos.context.subscriptions.matching import term_map_for
from cityos.core.addresses import refusal
from cityos.core.patterns import compile_pattern
from cityos.core.timefmt import now_iso
from cityos.runtime import Runtime

log = logging.getLogger(__name__)
TIMEOUT = 3.0  # seconds a source has to answer: a slow district hub must not hold up the city's read
VIA = f"1.1 cityos-{uuid.uuid4().hex[:12]}"  # this process, in the Via header (RFC 9110, 7.6.3)
# parameters the hub applies itself to the merged answer, or that would change what a source answers
# into something that cannot be merged (a keyValues entity, a GeoJSON Feature, a page further on)
_OWN_PARAMS = frozenset(
    {"options", "format", "pick", "omit", "lang", "join", "joinLevel", "geometryProperty", "count", "offset",
     "local", "orderBy", "orderFrom", "collation", "csf"}
)  # fmt: skip


@dataclass
class Asked:
    """What a read asks of the sources: the request as it came, and its entity selectors."""

    params: Mapping[str, str]  # the request's query parameters
    link: str | None  # its Link header (the @context)
    via: str | None  # its Via header
    tm: TermMap
    ids: tuple[str, ...] = ()
    id_pattern: str | None = None
    type: str | None = None
    attrs: tuple[str, ...] = ()
    csf: str | None = None  # a filter on the registrations themselves (clause 5.7.2.4): not sent to a source


def wanted(rt: Runtime, tenant: str, asked: Asked, local: bool | None) -> bool:
    """Whether a read goes to the sources at all: not with ``local=true``, not for a request that has been
    here already (Via), and not when the tenant registered no inclusive or auxiliary source (the cheap test)."""
    if local or (asked.via is not None and VIA in asked.via):
        return False
    return has_sources(rt, tenant)


def _discovery(asked: Asked) -> Discovery:
    return Discovery(
        ids=asked.ids,
        id_pattern=compile_pattern(asked.id_pattern) if asked.id_pattern else None,
        types=parse_type_expr(asked.type) if asked.type else None,
        attrs=frozenset(asked.tm.expand(a) for a in asked.attrs),
        csf=parse_q(asked.csf) if asked.csf else None,
        expand=asked.tm.expand,
    )


def _params(reg: Registration, asked: Asked) -> dict[str, str]:
    """The parameters sent to one source: the request's own, ``attrs`` narrowed to the attributes the
    registration names for what is asked (clause 4.3.6.1: a registration's constraints are respected), and
    ``local=true`` to a ``localOnly`` registration (clause 4.3.6.4: the source does not ask further)."""
    params = {k: v for k, v in asked.params.items() if k not in _OWN_PARAMS}
    d = _discovery(asked)
    infos = [i for i in reg.information if d.selects_info(i)]
    if infos and all(i.attributes for i in infos):
        registered = frozenset().union(*(i.attributes for i in infos))
        narrowed = registered & d.attrs if d.attrs else registered
        params["attrs"] = ",".join(sorted(asked.tm.compact(a) for a in narrowed))
    if reg.local_only:
        params["local"] = "true"
    return params


def sources(rt: Runtime, tenant: str, operation: str, asked: Asked) -> list[Registration]:
    """The tenant's inclusive and auxiliary registrations that provide ``operation`` for what is asked,
    inclusive ones first."""
    d = _discovery(asked)
    found = []
    for stored in list_registrations(rt, tenant):
        if stored.mode not in (INCLUSIVE, AUXILIARY):
            continue
        reg = registration_of(rt, stored)
        made_in = term_map_for(rt, stored.context).expand if d.csf is not None else str
        if reg.provides(operation) and d.selects(reg, made_in):
            found.append(reg)
    return sorted(found, key=lambda r: r.mode != INCLUSIVE)


def _get(rt: Runtime, reg: Registration, path: str, asked: Asked) -> Any:
    """A source's JSON answer to the same read, or None (logged) when it fails; a 404 is None, quietly."""
    url = reg.endpoint.rstrip("/") + path
    parts = urlsplit(url)
    # the networks notifications may reach bound the sources too: a registration is no way into the intranet
    port = parts.port or (443 if parts.scheme == "https" else 80)
    why = refusal(parts.hostname or "", port, rt.settings.notify_networks)
    if why is not None:
        log.warning("context source %s (%s) not asked: %s", reg.id, url, why)
        return None
    headers = {"Accept": "application/json", "Via": f"{asked.via}, {VIA}" if asked.via else VIA}
    if asked.link:
        headers["Link"] = asked.link
    tenant = reg.body.get("tenant")
    if isinstance(tenant, str):
        headers["NGSILD-Tenant"] = tenant
    params = _params(reg, asked)
    try:
        answer = httpx.get(url, params=params, headers=headers, timeout=TIMEOUT)
    except httpx.HTTPError as exc:
        log.warning("context source %s (%s) not asked: %s", reg.id, url, exc)
        return None
    if answer.status_code == 404:
        return None
    if answer.status_code != 200:
        log.warning("context source %s (%s) answered %s: left out", reg.id, url, answer.status_code)
        return None
    try:
        return answer.json()
    except ValueError:
        log.warning("context source %s (%s) answered no JSON: left out", reg.id, url)
        return None


def _ask_all(rt: Runtime, regs: list[Registration], path: str, asked: Asked) -> list[tuple[Registration, Any]]:
    """Every source asked at once (each within TIMEOUT), answers in the order of ``regs``."""
    if len(regs) <= 1:
        return [(r, _get(rt, r, path, asked)) for r in regs]
    with ThreadPoolExecutor(max_workers=min(len(regs), 8), thread_name_prefix="csource-read") as pool:
        return list(zip(regs, pool.map(lambda r: _get(rt, r, path, asked), regs), strict=True))


def _row_of(doc: Any, reg: Registration, tm: TermMap) -> EntityRow | None:
    """A source's entity as a row of this hub (names expanded with the request's @context); None, logged,
    for what is no entity."""
    if not isinstance(doc, dict):
        return None
    body = {k: v for k, v in doc.items() if k not in ("@context", "createdAt", "modifiedAt", "deletedAt")}
    now = now_iso()
    try:
        parsed = parse_entity(body, tm, now=now)
    except NgsiLdError as exc:
        log.warning("context source %s answered an entity cityos cannot read (%s): left out", reg.id, exc.detail)
        return None
    return EntityRow(None, parsed.id or "", parsed.types, parsed.scope, parsed.attrs, now, now)


def _observed(instance: dict[str, Any]) -> str:
    at = instance.get("observedAt")
    return at if isinstance(at, str) else ""


def merge(row: EntityRow | None, other: EntityRow, mode: str) -> EntityRow:
    """``other`` (a source's entity) merged into ``row``: an inclusive source adds its types, attributes and
    the instances of other datasetIds, and the later ``observedAt`` of the same instance wins; an auxiliary one
    only adds the attributes ``row`` lacks."""
    if row is None:
        return other
    attrs = {k: list(v) for k, v in row.attrs.items()}
    for name, instances in other.attrs.items():
        have = attrs.get(name)
        if have is None:
            attrs[name] = list(instances)
            continue
        if mode == AUXILIARY:
            continue
        for inst in instances:
            at = next((i for i, h in enumerate(have) if h.get("datasetId") == inst.get("datasetId")), None)
            if at is None:
                have.append(inst)
            elif _observed(inst) > _observed(have[at]):
                have[at] = inst
    types = row.types if mode == AUXILIARY else [*row.types, *(t for t in other.types if t not in row.types)]
    return replace(row, attrs=attrs, types=types)


def retrieve(rt: Runtime, tenant: str, entity_id: str, asked: Asked, local_read: Callable[[], EntityRow]) -> EntityRow:
    """Retrieve Entity across the hub and its sources: ``local_read()``'s row merged with what the matching
    sources hold of ``entity_id``; ResourceNotFound when none holds it."""
    try:
        row: EntityRow | None = local_read()
    except ResourceNotFound:
        row = None
    regs = sources(rt, tenant, "retrieveEntity", asked)
    for reg, doc in _ask_all(rt, regs, f"/ngsi-ld/v1/entities/{entity_id}", asked):
        other = _row_of(doc, reg, asked.tm) if doc is not None else None
        if other is not None and other.id == entity_id:
            row = merge(row, other, reg.mode)
    if row is None:
        raise ResourceNotFound(f"entity {entity_id} is held neither here nor by a source", instance=entity_id)
    return row


def query(rt: Runtime, tenant: str, rows: Iterable[EntityRow], asked: Asked) -> tuple[list[EntityRow], int]:
    """Query Entities across the hub and its sources: the local ``rows`` with the sources' matches merged in
    by id (new entities after the local ones), and how many entities the sources added."""
    merged = {r.id: r for r in rows}
    local_count = len(merged)
    regs = sources(rt, tenant, "queryEntity", asked)
    if regs and "orderBy" in asked.params:
        raise BadRequestData(
            "orderBy orders what this hub holds: a query that registered context sources answer too cannot be "
            "ordered (NGSI-LD v1.9, clause 4.23); add local=true to order the local entities"
        )
    for reg, docs in _ask_all(rt, regs, "/ngsi-ld/v1/entities", asked):
        if not isinstance(docs, list):
            if docs is not None:
                log.warning("context source %s answered a query with no array: left out", reg.id)
            continue
        for doc in docs:
            other = _row_of(doc, reg, asked.tm)
            if other is not None:
                merged[other.id] = merge(merged.get(other.id), other, reg.mode)
    return list(merged.values()), len(merged) - local_count
