"""Use cases of the city data hub (城市智能中枢): NGSI-LD entities, free of HTTP.

Every write goes through :func:`apply`: it locks the entities it touches, runs one mutation per
entity on the stored row (a mutation may refuse with an NGSI-LD error, which fails that entity
only), writes all results in one transaction, and publishes bus events after the commit.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from sqlalchemy.exc import IntegrityError
from starlette.concurrency import run_in_threadpool

from cityos.auth import ensure_tenant, tenant_exists
from cityos.bus import Event
from cityos.context import store
from cityos.context.entity import (
    GEOPROPERTY,
    NULL_URI,
    PROPERTY,
    ParsedEntity,
    has_expired,
    is_null,
    live_instances,
)
from cityos.context.errors import (
    AlreadyExists,
    BadRequestData,
    NgsiLdError,
    NonexistentTenant,
    NotYourEntity,
    ResourceNotFound,
)
from cityos.context.events import ENTITY_CREATED, ENTITY_DELETED, ENTITY_UPDATED
from cityos.context.geo import validate_geometry
from cityos.context.store import EntityRow, GeoRow
from cityos.context.temporal.history import (
    SCOPE_IRI,
    HistoryRow,
    changed_instances,
    deleted_instances,
    insert_history,
    instance_time,
    replace_history,
    scope_deletion,
)
from cityos.core.iris import holds_nul
from cityos.core.timefmt import from_ms, now_iso, to_ms
from cityos.runtime import Runtime

Attrs = dict[str, list[dict[str, Any]]]


@dataclass
class Change:
    """What a mutation did to one entity."""

    row: EntityRow | None  # None: deleted
    changed: set[str] = field(default_factory=set)  # attribute IRIs added or modified
    removed: set[str] = field(default_factory=set)
    not_updated: list[tuple[str, str]] = field(default_factory=list)  # (attribute IRI, reason)
    extra_history: list[HistoryRow] = field(default_factory=list)  # past instances (temporal API)
    observed_history: list[HistoryRow] = field(default_factory=list)  # telemetry: the first write of a key wins
    # temporal provision: an instance replaces the one stored at its attribute, datasetId and time (ETSI 008_01)
    replaced_history: list[HistoryRow] = field(default_factory=list)
    # True: observed_history and extra_history hold every instance the mutation wrote, so the write need not
    # diff the entity against its stored state to find what to keep in the history (telemetry's and the
    # feeds' fast path)
    history_complete: bool = False


Mutation = Callable[[EntityRow | None, str], Change]  # (current row or None, now) -> change


@dataclass
class Outcome:
    created: bool = False
    deleted: bool = False
    change: Change | None = None
    error: NgsiLdError | None = None


@dataclass(frozen=True)
class Writer:
    """Who writes, for entity ownership (一数一源: each entity has one department that keeps it).

    ``department`` owns what the write creates (None: the city's). With ``own_only`` (a department's
    token) the write may change or delete only entities that department owns; without it (operators,
    administrators, the platform writing for a device) it may change any.
    """

    department: str | None = None
    own_only: bool = False

    @classmethod
    def acting_for(cls, department: str | None) -> Writer:
        """The writer of a caller limited to ``department`` (None: not limited, writes as the city)."""
        return cls(department, own_only=department is not None)

    def refusal(self, row: EntityRow | None, entity_id: str) -> NotYourEntity | None:
        """Why this writer may not change the entity ``row`` (None when it may, or when it does not exist)."""
        if not self.own_only or row is None or row.owner == self.department:
            return None
        keeper = f"department {row.owner!r}" if row.owner else "the city (an operator)"
        return NotYourEntity(
            f"entity {entity_id} is kept by {keeper}; department {self.department!r} changes only its own "
            "entities: ask its keeper, or an operator, to change it",
            instance=entity_id,
        )


CITY = Writer()  # operators, administrators and the platform's own writes


def check_tenant_for_read(rt: Runtime, tenant: str) -> None:
    if tenant != rt.settings.default_tenant and not tenant_exists(rt.db, tenant):
        raise NonexistentTenant(f"tenant {tenant!r} does not exist: it is created by its first write")


def _prepare_tenant(rt: Runtime, tenant: str, creates: bool) -> None:
    if creates:
        ensure_tenant(rt.db, tenant)
    else:
        check_tenant_for_read(rt, tenant)


def apply(
    rt: Runtime,
    tenant: str,
    ops: Sequence[tuple[str, Mutation]],
    *,
    creates: bool = False,
    writer: Writer = CITY,
) -> list[Outcome]:
    """Run mutations on entities in one transaction; one outcome per op, in order.

    Events are published after the commit. ``creates`` creates the tenant if it is new. An op on an
    entity ``writer`` may not change fails with NotYourEntity; entities it creates are its department's.
    """
    _prepare_tenant(rt, tenant, creates)
    job = partial(_apply_in, tenant=tenant, ops=ops, lock_rows=rt.db.locks_rows, writer=writer)
    try:
        outcomes, events = rt.db.run_write(job)
    except IntegrityError:
        # Another writer created one of these ids between our read and our insert (PostgreSQL):
        # run again; the rows are now seen as existing.
        outcomes, events = rt.db.run_write(job)
    _after_commit(rt, outcomes, events)
    return outcomes


async def apply_async(
    rt: Runtime,
    tenant: str,
    ops: Sequence[tuple[str, Mutation]],
    *,
    creates: bool = False,
    writer: Writer = CITY,
) -> list[Outcome]:
    """:func:`apply` for the event loop: on SQLite it waits for the group commit without a pool thread."""
    _prepare_tenant(rt, tenant, creates)
    job = partial(_apply_in, tenant=tenant, ops=ops, lock_rows=rt.db.locks_rows, writer=writer)
    try:
        outcomes, events = await rt.db.run_write_async(job)
    except IntegrityError:
        outcomes, events = await rt.db.run_write_async(job)
    if rt.db.is_sqlite:
        _after_commit(rt, outcomes, events)
    else:  # may run ANALYZE: keep it off the event loop
        await run_in_threadpool(_after_commit, rt, outcomes, events)
    return outcomes


ENTITY_TABLES = ("context_entities", "context_entity_types", "context_entity_geo")


def _after_commit(rt: Runtime, outcomes: list[Outcome], events: list[Event]) -> None:
    rt.bus.publish(events)
    rt.db.note_growth(ENTITY_TABLES, sum(1 for o in outcomes if o.created))


def _apply_in(
    conn: Any, *, tenant: str, ops: Sequence[tuple[str, Mutation]], lock_rows: bool, writer: Writer
) -> tuple[list[Outcome], list[Event]]:
    ids = list(dict.fromkeys(i for i, _ in ops))
    now = now_iso()
    outcomes: list[Outcome] = []
    original = store.fetch_many(conn, tenant, ids, for_update=lock_rows)
    _forget_expired(conn, original, now)
    _sweep_expired(conn, now)
    working: dict[str, EntityRow | None] = {i: original.get(i) for i in ids}
    touched: dict[str, tuple[set[str], set[str]]] = {}
    diffed: set[str] = set()  # entities whose history comes from comparing before and after
    extra: list[HistoryRow] = []
    observed: list[HistoryRow] = []
    replaced: list[HistoryRow] = []
    for entity_id, mutate in ops:
        cur = working[entity_id]
        refused = writer.refusal(cur, entity_id)
        if refused is not None:
            outcomes.append(Outcome(error=refused))
            continue
        try:
            change = mutate(_copy(cur) if cur is not None else None, now)
        except NgsiLdError as exc:
            outcomes.append(Outcome(error=exc))
            continue
        if change.row is not None:  # ownership is set when an entity is made and kept by every change
            change.row.owner = writer.department if cur is None else cur.owner
        working[entity_id] = change.row
        extra += change.extra_history
        observed += change.observed_history
        replaced += change.replaced_history
        if not change.history_complete:
            diffed.add(entity_id)
        changed, removed = touched.setdefault(entity_id, (set(), set()))
        changed |= change.changed
        removed |= change.removed
        outcomes.append(
            Outcome(
                created=cur is None and change.row is not None,
                deleted=change.row is None and cur is not None,
                change=change,
            )
        )
    events = _write(conn, tenant, original, working, touched, now, extra, diffed)
    insert_history(conn, tenant, observed, now, keep_first=True)
    replace_history(conn, tenant, replaced, now)
    return outcomes, events


def _forget_expired(conn: Any, rows: dict[str, EntityRow], now: str) -> None:
    """What has expired is as if it were not there (NGSI-LD 4.22): an expired entity's row is removed now
    (its id is free for a create; its history stays, as a deleted entity's does), and the expired instances
    of the others are left out of what the write starts from, so that a changed entity is written without them."""
    gone = [entity_id for entity_id, row in rows.items() if has_expired(row.expires_at, now)]
    if gone:
        store.delete_many(conn, [rows.pop(entity_id).pk for entity_id in gone])  # type: ignore[misc]
    for row in rows.values():
        for name, instances in list(row.attrs.items()):
            kept = live_instances(instances, now)
            if kept is instances:
                continue
            if kept:
                row.attrs[name] = kept
            else:
                del row.attrs[name]


# Entities expired this long ago are reaped by the sweep: until then their temporal evolution is still read
# through them (it outlives the current state, as a deleted entity's does, but is found by the entity's row)
REAP_AFTER_MS = 3_600_000
_SWEEP_EVERY_S = 60.0  # at most one sweep a minute per process, on a write that comes
_next_sweep = [0.0]  # monotonic time of this process's next sweep


def _sweep_expired(conn: Any, now: str) -> None:
    """Remove up to 500 entities of any tenant that expired over REAP_AFTER_MS ago (an index range: nothing to
    read when no entity is transient). Their history stays."""
    if time.monotonic() < _next_sweep[0]:
        return
    _next_sweep[0] = time.monotonic() + _SWEEP_EVERY_S
    pks = store.expired_pks(conn, None, from_ms(to_ms(now) - REAP_AFTER_MS), 500)
    if pks:
        store.delete_many(conn, pks)


def _copy(row: EntityRow) -> EntityRow:
    """A copy that mutations may change: they replace instance lists and dicts, never edit them in place."""
    return EntityRow(
        row.pk,
        row.id,
        list(row.types),
        list(row.scope) if row.scope else row.scope,
        dict(row.attrs),
        row.created_at,
        row.modified_at,
        row.owner,
        row.expires_at,
    )


def _write(
    conn: Any,
    tenant: str,
    original: dict[str, EntityRow],
    working: dict[str, EntityRow | None],
    touched: dict[str, tuple[set[str], set[str]]],
    now: str,
    extra_history: list[HistoryRow],
    diffed: set[str],
) -> list[Event]:
    history: list[HistoryRow] = list(extra_history)
    inserts: list[EntityRow] = []
    updates: list[EntityRow] = []
    types_changed: list[EntityRow] = []
    deletes: list[int] = []
    new_geo: dict[str, list[GeoRow]] = {}
    upd_geo: dict[int, list[GeoRow]] = {}
    events: list[Event] = []
    for entity_id, (changed, removed) in touched.items():
        before, after = original.get(entity_id), working[entity_id]
        if after is None:
            if before is not None:
                deletes.append(before.pk)  # type: ignore[arg-type]
                # what it held, for the notifications of its deletion (NGSI-LD notificationTrigger, showChanges)
                gone = {"id": entity_id, "types": before.types, "attrs": before.attrs, "deletedAt": now}
                gone |= {"createdAt": before.created_at, "modifiedAt": before.modified_at}
                events.append(Event(ENTITY_DELETED, entity_id, gone, tenant))
            continue
        if before is None:
            inserts.append(after)
            new_geo[entity_id] = geo_rows(after.attrs)
            if entity_id in diffed:
                history += changed_instances(entity_id, None, after.attrs, set(after.attrs), now)
            made = {"id": entity_id, "types": after.types, "attrs": after.attrs}
            made |= {"createdAt": after.created_at, "modifiedAt": after.modified_at}  # for notification sysAttrs
            events.append(Event(ENTITY_CREATED, entity_id, made, tenant))
            continue
        if (
            not changed
            and not removed
            and after.types == before.types
            and after.scope == before.scope
            and after.expires_at == before.expires_at
        ):
            continue
        after.pk = before.pk
        updates.append(after)
        if entity_id in diffed:
            history += changed_instances(entity_id, before.attrs, after.attrs, changed, now)
            history += deleted_instances(entity_id, before.attrs, after.attrs, changed | removed, now)
        if before.scope and not after.scope:
            history.append(scope_deletion(entity_id, now))
        if after.types != before.types:
            types_changed.append(after)
        new_boxes = geo_rows(after.attrs)
        if new_boxes != geo_rows(before.attrs):  # the index holds boxes: rewrite it only if they moved
            upd_geo[before.pk] = new_boxes  # type: ignore[index]
        events.append(
            Event(
                ENTITY_UPDATED,
                entity_id,
                {
                    "id": entity_id,
                    "types": after.types,
                    "attrs": {a: after.attrs[a] for a in changed if a in after.attrs},
                    "removed": sorted(removed - after.attrs.keys()),
                    # the instances they replaced, for notifications (showChanges, created vs updated)
                    "previous": {a: before.attrs[a] for a in changed | removed if a in before.attrs},
                    "createdAt": before.created_at,
                    "modifiedAt": after.modified_at,
                },
                tenant,
            )
        )
    store.delete_many(conn, deletes)
    store.insert_many(conn, tenant, inserts, new_geo)
    store.update_many(conn, tenant, updates, types_changed=types_changed, geo=upd_geo)
    insert_history(conn, tenant, history, now)
    return events


def geo_rows(attrs: Attrs) -> list[GeoRow]:
    """Bounding boxes of every GeoProperty instance, for the geo index."""
    rows: list[GeoRow] = []
    for name, instances in attrs.items():
        for inst in instances:
            if inst.get("type") == GEOPROPERTY:
                value = inst["value"]
                if value.get("type") == "Point":  # validated on the way in: its box is the point
                    x, y = value["coordinates"][0], value["coordinates"][1]
                    box = (float(x), float(y), float(x), float(y))
                else:
                    box = validate_geometry(value, attr=name)
                rows.append((name, inst.get("datasetId") or "", box))
    return rows


# --- attribute instance algebra ----------------------------------------------------------------------


def put_instances(
    old: list[dict[str, Any]] | None, new: list[dict[str, Any]], *, overwrite: bool
) -> tuple[list[dict[str, Any]], bool]:
    """Add or replace instances by datasetId. Returns the instances and whether anything was refused."""
    result = list(old or [])
    index = {i.get("datasetId"): n for n, i in enumerate(result)}
    refused = False
    for inst in new:
        ds = inst.get("datasetId")
        if ds in index:
            if not overwrite:
                refused = True
                continue
            inst = dict(inst, createdAt=result[index[ds]].get("createdAt", inst.get("createdAt")))
            result[index[ds]] = inst
        else:
            index[ds] = len(result)
            result.append(inst)
    return result, refused


def merge_instance(old: dict[str, Any], new: dict[str, Any], *, patch_values: bool = False) -> dict[str, Any]:
    """Merge-patch one instance: the value is replaced, sub-attributes are merged. With ``patch_values`` (a
    Merge Entity) a Property's JSON object value is merge-patched into the one held (RFC 7396, NGSI-LD Null
    removing a key: NGSI-LD v1.9, clause 5.5.4; ETSI 554_01_04)."""
    if old.get("type") != new.get("type"):
        return dict(new, createdAt=old.get("createdAt", new.get("createdAt")))
    merged = dict(old)
    for key, value in new.items():
        if key == "createdAt":
            continue
        if patch_values and key == "value" and new.get("type", PROPERTY) == PROPERTY:
            value = merge_patch(old.get("value"), value)
        merged[key] = value
    return merged


def merge_patch(held: Any, patch: Any) -> Any:
    """RFC 7396 JSON merge patch, NGSI-LD Null (or JSON null) removing a key."""
    if not isinstance(patch, dict):
        return patch
    result = dict(held) if isinstance(held, dict) else {}
    for key, value in patch.items():
        if value is None or value == NULL_URI:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def merge_instances(
    old: list[dict[str, Any]], new: list[dict[str, Any]], *, patch_values: bool = False
) -> list[dict[str, Any]]:
    result = list(old)
    index = {i.get("datasetId"): n for n, i in enumerate(result)}
    for inst in new:
        ds = inst.get("datasetId")
        if ds in index:
            result[index[ds]] = merge_instance(result[index[ds]], inst, patch_values=patch_values)
        else:
            if patch_values and isinstance(inst.get("value"), dict) and inst.get("type", PROPERTY) == PROPERTY:
                inst = dict(inst, value=merge_patch(None, inst["value"]))  # a new value keeps no Null
            index[ds] = len(result)
            result.append(inst)
    return result


def _union(types: list[str], more: list[str]) -> list[str]:
    return types + [t for t in more if t not in types]


# --- mutations --------------------------------------------------------------------------------------


def _absent(p: ParsedEntity, now: str, *, create: bool) -> Change:
    """The change for an entity that is not stored: create it if allowed, else say it does not exist."""
    if not create:
        raise ResourceNotFound(f"entity {p.id} does not exist", instance=p.id)
    row = EntityRow(None, p.id or "", p.types, p.scope, p.attrs, now, now, expires_at=p.expires_at)
    return Change(row, changed=set(p.attrs))


def m_create(p: ParsedEntity) -> Mutation:
    def run(cur: EntityRow | None, now: str) -> Change:
        if cur is not None:
            raise AlreadyExists(
                f"entity {p.id} already exists: use PATCH to change it or PUT to replace it", instance=p.id
            )
        return _absent(p, now, create=True)

    return run


def m_replace(p: ParsedEntity, *, create: bool = False) -> Mutation:
    def run(cur: EntityRow | None, now: str) -> Change:
        if cur is None:
            return _absent(p, now, create=create)
        removed = set(cur.attrs) - set(p.attrs)
        for name, instances in p.attrs.items():
            before = cur.attrs.get(name)
            if not before:
                continue
            if len(before) == 1 and len(instances) == 1:  # the common case, without building a map
                if before[0].get("datasetId") == instances[0].get("datasetId"):
                    instances[0]["createdAt"] = before[0].get("createdAt", now)
                continue
            old = {i.get("datasetId"): i for i in before}
            for inst in instances:
                if inst.get("datasetId") in old:
                    inst["createdAt"] = old[inst.get("datasetId")].get("createdAt", now)
        # a replace is whole: an expiresAt the new entity does not give is gone (it becomes durable)
        row = EntityRow(cur.pk, cur.id, p.types or cur.types, p.scope, p.attrs, cur.created_at, now)
        row.expires_at = p.expires_at
        return Change(row, changed=set(p.attrs), removed=removed)

    return run


def m_append(p: ParsedEntity, *, overwrite: bool = True, create: bool = False) -> Mutation:
    """Append Entity Attributes (and batch update / upsert-update): add new attributes, overwrite others."""

    def run(cur: EntityRow | None, now: str) -> Change:
        if cur is None:
            return _absent(p, now, create=create)
        change = Change(cur)
        for name, instances in p.attrs.items():
            result, refused = put_instances(cur.attrs.get(name), instances, overwrite=overwrite)
            if refused:
                change.not_updated.append((name, "attribute exists and options=noOverwrite was given"))
            if result != cur.attrs.get(name):
                cur.attrs[name] = result
                change.changed.add(name)
        types, scope, expires = cur.types, cur.scope, cur.expires_at
        cur.types = _union(cur.types, p.types)
        if p.expires_at is not None:
            cur.expires_at = p.expires_at
        elif p.drop_expiry:
            cur.expires_at = None
        if p.scope is not None:
            # noOverwrite adds the scopes to those held (NGSI-LD v1.8, clause 5.6.3; ETSI 010_07_01)
            cur.scope = p.scope if overwrite or not cur.scope else _union(cur.scope, p.scope)
        if change.changed or cur.types != types or cur.scope != scope or cur.expires_at != expires:
            cur.modified_at = now
        return change

    return run


def m_update_attrs(p: ParsedEntity) -> Mutation:
    """Update Entity Attributes: only attributes that exist are changed (their instances replaced or added by
    datasetId)."""

    def run(cur: EntityRow | None, now: str) -> Change:
        if cur is None:
            raise ResourceNotFound(f"entity {p.id} does not exist", instance=p.id)
        change = Change(cur)
        for name, ds in sorted(p.deleted, key=lambda k: (k[0], k[1] or "")):
            if _held(cur, name, ds or "") is None:
                what = f"no instance with datasetId {ds}" if ds else "attribute does not exist"
                change.not_updated.append((name, f"{what}: nothing to delete"))
        _drop_nulls(cur, p.deleted, change)
        for name, instances in p.attrs.items():
            existing = cur.attrs.get(name)
            if not existing:
                change.not_updated.append((name, "attribute does not exist: append it with POST .../attrs"))
                continue
            # an instance of a datasetId the attribute lacks is added beside the others (NGSI-LD v1.9, clause
            # 5.5.8; ETSI 558_01_04): only an attribute the entity lacks is not updated
            cur.attrs[name], _ = put_instances(existing, instances, overwrite=True)
            change.changed.add(name)
        # types are added; a scope is replaced, but only where there is one (NGSI-LD v1.8, clause 5.6.2;
        # ETSI 011_05, 011_06)
        types, scope, expires = cur.types, cur.scope, cur.expires_at
        cur.types = _union(cur.types, p.types)
        if p.expires_at is not None:
            cur.expires_at = p.expires_at
        elif p.drop_expiry:
            cur.expires_at = None
        if p.scope is not None:
            if cur.scope:
                cur.scope = p.scope
            else:
                change.not_updated.append(("scope", "the entity has no scope: append it with POST .../attrs"))
        if change.changed or change.removed or cur.types != types or cur.scope != scope or cur.expires_at != expires:
            cur.modified_at = now
        return change

    return run


def m_merge(p: ParsedEntity, *, create: bool = False, patch_values: bool = False) -> Mutation:
    """Merge Entity (PATCH /entities/{id}): merge-patch semantics, urn:ngsi-ld:null deletes. ``patch_values``
    (the API's merges) merge-patches a Property's JSON object value into the one held; without it (the hub's own
    writers, which send whole values) a value replaces the one held."""

    def run(cur: EntityRow | None, now: str) -> Change:
        if cur is None:
            return _absent(p, now, create=create)
        change = Change(cur)
        _drop_nulls(cur, p.deleted, change)
        for name, instances in p.attrs.items():
            cur.attrs[name] = merge_instances(cur.attrs.get(name, []), instances, patch_values=patch_values)
            change.changed.add(name)
        cur.types = _union(cur.types, p.types)
        if p.scope is not None:
            cur.scope = p.scope
        if p.expires_at is not None:  # merged like a member: given, it is set; left out, it stays
            cur.expires_at = p.expires_at
        elif p.drop_expiry:
            cur.expires_at = None
        cur.modified_at = now
        return change

    return run


def m_set_values(entity_id: str, types: list[str], values: dict[str, Any]) -> Mutation:
    """Merge Entity of plain Property values (attribute IRI -> value, a scalar or a JSON object the caller
    checked) into each attribute's default instance, creating the entity with ``types`` (IRIs) if it does not
    exist: what :func:`m_merge` does with a body of such Properties, without a body to parse. The mutation
    writes the history rows of the instances whose value it changes itself, so the write does not compare the
    whole entity with its stored state (a feed sets thousands of entities a batch)."""

    def run(cur: EntityRow | None, now: str) -> Change:
        for iri, value in values.items():
            if holds_nul(value):
                raise BadRequestData(f"attribute {iri!r} holds the character U+0000 (NUL), which cannot be stored: "
                                     "remove it", instance=entity_id)  # fmt: skip
        if cur is None:
            cur = EntityRow(None, entity_id, list(types), None, {}, now, now)
        else:
            cur.types = _union(cur.types, types)
            cur.modified_at = now
        change = Change(cur, history_complete=True)
        for iri, value in values.items():
            held = cur.attrs.get(iri) or []
            old = next((i for i in held if i.get("datasetId") is None), None)
            inst = {"type": PROPERTY, "value": value, "createdAt": now, "modifiedAt": now}
            if old is None:
                cur.attrs[iri] = [*held, inst]
            else:
                inst = merge_instance(old, inst)
                cur.attrs[iri] = [inst if i is old else i for i in held]
            change.changed.add(iri)
            if old is None or old.get("type") != PROPERTY or old.get("value") != value:  # else no change to keep
                change.extra_history.append((entity_id, iri, "", instance_time(inst, now), inst))
        return change

    return run


def m_patch_attr(entity_id: str, name: str, instance: dict[str, Any], *, declared: str | None = None) -> Mutation:
    """Partial Attribute update: merge a fragment into one attribute instance. ``declared``: the attribute type
    the fragment names, if any; another than the instance's is BadRequestData (NGSI-LD v1.8, clause 5.6.4)."""

    def run(cur: EntityRow | None, now: str) -> Change:
        if cur is None:
            raise ResourceNotFound(f"entity {entity_id} does not exist", instance=entity_id)
        existing = cur.attrs.get(name)
        ds = instance.get("datasetId")
        if not existing or all(i.get("datasetId") != ds for i in existing):
            what = f"instance with datasetId {ds}" if ds else "attribute"
            raise ResourceNotFound(f"entity {entity_id} has no {what} {name}", instance=entity_id)
        held = next(i for i in existing if i.get("datasetId") == ds).get("type", "Property")
        if declared is not None and declared != held:
            raise BadRequestData(
                f"attribute {name} of {entity_id} is a {held}, the fragment a {declared}: a partial update keeps "
                "the type (replace the attribute with PUT .../attrs/{attrId} to change it)"
            )
        cur.modified_at = now
        if is_null(instance):  # NGSI-LD Null: the instance is deleted, not stored
            change = Change(cur)
            _drop_nulls(cur, {(name, ds)}, change)
            return change
        # sub-attributes only: merged into the instance, which keeps its type and value
        fragment = instance if "type" in instance else {"type": held, **instance}
        cur.attrs[name] = merge_instances(existing, [fragment])
        return Change(cur, changed={name})

    return run


def m_replace_attr(entity_id: str, name: str, instances: list[dict[str, Any]]) -> Mutation:
    """Replace Attribute (PUT /entities/{id}/attrs/{attr}): the instances given take the place of those with
    their datasetId, whole (sub-attributes not given are gone); each keeps its createdAt."""

    def run(cur: EntityRow | None, now: str) -> Change:
        if cur is None:
            raise ResourceNotFound(f"entity {entity_id} does not exist", instance=entity_id)
        existing = cur.attrs.get(name)
        if not existing:
            raise ResourceNotFound(
                f"entity {entity_id} has no attribute {name}: append it with POST .../attrs", instance=entity_id
            )
        cur.attrs[name], _ = put_instances(existing, instances, overwrite=True)
        cur.modified_at = now
        return Change(cur, changed={name})

    return run


def _drop_nulls(cur: EntityRow, deleted: set[tuple[str, str | None]], change: Change) -> None:
    """Delete the instances set to NGSI-LD Null; an attribute left with none is removed."""
    for name, ds in deleted:
        existing = cur.attrs.get(name)
        if not existing:
            continue
        remaining = [i for i in existing if i.get("datasetId") != ds]
        if len(remaining) == len(existing):
            continue
        if remaining:
            cur.attrs[name] = remaining
            change.changed.add(name)
        else:
            del cur.attrs[name]
            change.removed.add(name)
            change.changed.discard(name)


def m_delete_scope(entity_id: str) -> Mutation:
    """Delete Attribute on ``scope``: the entity's scope goes (NGSI-LD v1.8, clause 5.6.5; ETSI 013_04)."""

    def run(cur: EntityRow | None, now: str) -> Change:
        if cur is None:
            raise ResourceNotFound(f"entity {entity_id} does not exist", instance=entity_id)
        if not cur.scope:
            raise ResourceNotFound(f"entity {entity_id} has no scope", instance=entity_id)
        cur.scope = None
        cur.modified_at = now
        return Change(cur)

    return run


def m_delete_attr(entity_id: str, name: str, *, dataset_id: str | None, delete_all: bool) -> Mutation:
    def run(cur: EntityRow | None, now: str) -> Change:
        if cur is None:
            raise ResourceNotFound(f"entity {entity_id} does not exist", instance=entity_id)
        existing = cur.attrs.get(name)
        if not existing:
            raise ResourceNotFound(f"entity {entity_id} has no attribute {name}", instance=entity_id)
        if delete_all:
            remaining: list[dict[str, Any]] = []
        else:
            remaining = [i for i in existing if i.get("datasetId") != dataset_id]
            if len(remaining) == len(existing):
                what = f"datasetId {dataset_id}" if dataset_id else "a default instance (no datasetId)"
                raise ResourceNotFound(
                    f"attribute {name} of {entity_id} has no instance with {what}", instance=entity_id
                )
        cur.modified_at = now
        if remaining:
            cur.attrs[name] = remaining
            return Change(cur, changed={name})
        del cur.attrs[name]
        return Change(cur, removed={name})

    return run


def _held(cur: EntityRow, attr: str, ds: str) -> dict[str, Any] | None:
    """The instance of ``attr`` with datasetId ``ds`` ("" for the default instance) the entity holds."""
    return next((i for i in cur.attrs.get(attr, ()) if (i.get("datasetId") or "") == ds), None)


def m_temporal_append(
    entity_id: str,
    types: list[str],
    instances: dict[str, list[dict[str, Any]]],
    *,
    create: bool,
    scope: list[str] | None = None,
    scope_history: list[dict[str, Any]] | None = None,
    expires_at: str | None = None,
) -> Mutation:
    """Temporal provision: add instances to the history; the newest per attribute and datasetId
    becomes the current state when it is newer than what the entity holds. ``expires_at`` (stored form) is the
    entity's expiresAt as a create or an update would set it: given, it is set; left out, it stays."""

    def run(cur: EntityRow | None, now: str) -> Change:
        history: list[HistoryRow] = [(entity_id, SCOPE_IRI, "", instance_time(i, now), i) for i in scope_history or ()]
        latest: dict[tuple[str, str], dict[str, Any]] = {}
        for attr, items in instances.items():
            for inst in items:
                ds = inst.get("datasetId") or ""
                history.append((entity_id, attr, ds, instance_time(inst, now), inst))
                best = latest.get((attr, ds))
                if best is None or (best.get("observedAt") or "") <= (inst.get("observedAt") or ""):
                    latest[(attr, ds)] = inst
        if cur is None:
            if not create:
                raise ResourceNotFound(f"entity {entity_id} does not exist", instance=entity_id)
            attrs: Attrs = {}
            for (attr, _ds), inst in latest.items():
                attrs.setdefault(attr, []).append(inst)
            row = EntityRow(None, entity_id, types, scope, attrs, now, now, expires_at=expires_at)
            return Change(row, changed=set(attrs), replaced_history=history, history_complete=True)
        # every instance given is in ``history``: the entity's new state adds nothing to it
        change = Change(cur, replaced_history=history, history_complete=True)
        for (attr, ds), inst in latest.items():
            held = _held(cur, attr, ds)
            if held is None or (held.get("observedAt") or "") <= (inst.get("observedAt") or ""):
                cur.attrs[attr], _ = put_instances(cur.attrs.get(attr), [inst], overwrite=True)
                change.changed.add(attr)
        cur.types = _union(cur.types, types)
        if scope is not None:
            cur.scope = scope
        moved = expires_at is not None and expires_at != cur.expires_at
        if moved:
            cur.expires_at = expires_at
        if change.changed or scope is not None or moved:
            cur.modified_at = now
        return change

    return run


def m_observe(entity_id: str, types: list[str], readings: list[tuple[str, dict[str, Any]]]) -> Mutation:
    """Telemetry: measured instances (attribute IRI, instance with observedAt) of one entity.

    Every instance goes to the history, where the first write of an (attribute, datasetId,
    observedAt) wins; the newest becomes the current state only when it is strictly newer than what
    the entity holds. So a replayed message changes nothing, and a late one only fills in history.
    The entity is created with ``types`` if it does not exist.
    """

    def run(cur: EntityRow | None, now: str) -> Change:
        latest: dict[tuple[str, str], dict[str, Any]] = {}
        stamped: list[tuple[str, dict[str, Any]]] = []
        for attr, inst in readings:
            inst = {**inst, "createdAt": now, "modifiedAt": now}
            stamped.append((attr, inst))
            key = (attr, inst.get("datasetId") or "")
            best = latest.get(key)
            if best is None or best["observedAt"] <= inst["observedAt"]:  # the later of equal times wins
                latest[key] = inst
        if cur is None:
            cur = EntityRow(None, entity_id, list(types), None, {}, now, now)
        change = Change(cur)
        current: set[int] = set()
        for (attr, ds), inst in latest.items():
            held = _held(cur, attr, ds)
            if held is None or (held.get("observedAt") or "") < inst["observedAt"]:
                cur.attrs[attr], _ = put_instances(cur.attrs.get(attr), [inst], overwrite=True)
                change.changed.add(attr)
                current.add(id(inst))
        # the current instances first: of two with the same key the history keeps the first, which
        # must be the one the entity now holds
        ordered = sorted(stamped, key=lambda ai: id(ai[1]) not in current)
        change.observed_history = [
            (entity_id, attr, inst.get("datasetId") or "", instance_time(inst, now), inst) for attr, inst in ordered
        ]
        change.history_complete = True
        if change.changed:
            cur.modified_at = now
        return change

    return run


def m_delete(entity_id: str) -> Mutation:
    def run(cur: EntityRow | None, now: str) -> Change:
        if cur is None:
            raise ResourceNotFound(f"entity {entity_id} does not exist", instance=entity_id)
        return Change(None, removed=set(cur.attrs))

    return run


def m_purge_attrs(
    entity_id: str, *, keep: frozenset[str] | None = None, drop: frozenset[str] = frozenset()
) -> Mutation:
    """Purge Entities with ``keep`` or ``drop`` (NGSI-LD v1.9, clause 5.6.21): the entity stays, the attributes
    ``drop`` names (or all but those ``keep`` names) go."""

    def run(cur: EntityRow | None, now: str) -> Change:
        if cur is None:
            raise ResourceNotFound(f"entity {entity_id} does not exist", instance=entity_id)
        gone = {a for a in cur.attrs if (a not in keep if keep is not None else a in drop)}
        for name in gone:
            del cur.attrs[name]
        if gone:
            cur.modified_at = now
        return Change(cur, removed=gone)

    return run


def one(
    rt: Runtime, tenant: str, entity_id: str, mutation: Mutation, *, creates: bool = False, writer: Writer = CITY
) -> Outcome:
    """Run one mutation; its error, if any, is raised."""
    outcome = apply(rt, tenant, [(entity_id, mutation)], creates=creates, writer=writer)[0]
    if outcome.error is not None:
        raise outcome.error
    return outcome


async def one_async(
    rt: Runtime, tenant: str, entity_id: str, mutation: Mutation, *, creates: bool = False, writer: Writer = CITY
) -> Outcome:
    outcome = (await apply_async(rt, tenant, [(entity_id, mutation)], creates=creates, writer=writer))[0]
    if outcome.error is not None:
        raise outcome.error
    return outcome


# --- ownership ------------------------------------------------------------------------------------


def keepers(rt: Runtime, tenant: str, entity_ids: Sequence[str]) -> dict[str, str | None]:
    """The department that owns each of these entities that exists (None: the city's)."""
    if not tenant_exists(rt.db, tenant) and tenant != rt.settings.default_tenant:
        return {}
    with rt.db.connect() as conn:
        return {i: row.owner for i, row in store.fetch_many(conn, tenant, list(entity_ids)).items()}


def adopt(rt: Runtime, tenant: str, entity_ids: Sequence[str], department: str) -> int:
    """Give the city's (unowned) entities among ``entity_ids`` to ``department``: a device group's devices
    feed them, so it is their source. Entities another department owns stay its own. How many it took."""
    if not entity_ids:
        return 0
    return int(rt.db.run_write(lambda conn: store.adopt(conn, tenant, list(entity_ids), department)))


def keep_shadows(rt: Runtime, kept: Sequence[tuple[int, int, Any]]) -> Future[None]:
    """Keep values derived from entities' states beside them (each (pk, version, doc): the row's pk and the
    version it was read at, from a query with ``shadows``), in another thread (:meth:`Database.submit_write`):
    a doc is kept only where the row still has that version, for every write of the state empties the shadow
    and moves the version. What is kept is a reader's to read back (EntityRow.shadow); nothing waits on it."""
    return rt.db.submit_write(lambda conn: store.keep_shadows(conn, kept))


# --- reads ------------------------------------------------------------------------------------------


def get_entity(rt: Runtime, tenant: str, entity_id: str, *, expired: bool = False) -> EntityRow:
    """The stored entity; ResourceNotFound when there is none (see :func:`find_entity` for ``expired``)."""
    row = find_entity(rt, tenant, entity_id, expired=expired)
    if row is None:
        raise ResourceNotFound(f"entity {entity_id} does not exist", instance=entity_id)
    return row


def find_entity(rt: Runtime, tenant: str, entity_id: str, *, expired: bool = False) -> EntityRow | None:
    """The stored entity, None when there is none (NonexistentTenant for a tenant never written to).

    An entity past its expiresAt is none, and the instances past theirs are left out (NGSI-LD 4.22);
    ``expired``: it is found still, until it is reaped (its history outlives it, as a deleted one's does)."""
    check_tenant_for_read(rt, tenant)
    with rt.db.connect() as conn:
        row = store.fetch_one(conn, tenant, entity_id)
    if row is None:
        return None
    now = now_iso()
    if has_expired(row.expires_at, now) and not expired:
        return None
    for name, instances in list(row.attrs.items()):
        kept = live_instances(instances, now)
        if kept is not instances:
            row.attrs[name] = kept
    return row


def require_body_id(body: Any, entity_id: str) -> None:
    """A body that names an id must name the id of the URL."""
    if isinstance(body, dict) and body.get("id") not in (None, entity_id):
        raise BadRequestData(f"the body's id {body.get('id')!r} differs from the URL's id {entity_id!r}")
