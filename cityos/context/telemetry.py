"""Telemetry's write into the hub: a batch of many entities' observations in a few set statements.

:func:`observe` does for a whole batch what :func:`~cityos.context.service.apply` with
:func:`~cityos.context.service.m_observe` does entity by entity, with the same rules: every
observation goes to the history, where the first write of an (attribute, datasetId, observedAt)
wins; an entity's state takes the newest observation of each attribute only when it is strictly
newer than what it holds; an entity that does not exist is created. So a replayed batch changes
nothing and a late observation only fills in history.

The batch is one transaction: the entities are read in one statement per 500, their new states and
the new entities written with one ``executemany`` each, the history with one more. Other writes that
must commit with the observations (telemetry's dead letters) join it through ``also``. After the
commit, one event per entity whose state changed, as every hub write publishes; its data holds,
beside the changed ``attrs``, every observation the batch brought under ``observed`` (attribute IRI
to instances in time order) whenever those are more than ``attrs`` shows: two observations of one
entity in one batch, or late ones that changed only the history. An entity whose batch changed only
its history gets an ``entity.updated`` event with no ``attrs`` and its ``observed``, so that
consumers of observations (the vitals engine) see every one; subscriptions notify nothing for it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from cityos.auth import ensure_tenant
from cityos.bus import Event
from cityos.context import store
from cityos.context.entity import GEOPROPERTY
from cityos.context.events import ENTITY_CREATED, ENTITY_UPDATED
from cityos.context.service import ENTITY_TABLES, Attrs, geo_rows
from cityos.context.store import EntityRow, GeoRow
from cityos.context.temporal.history import (
    HistoryRow,
    ObservationKey,
    insert_observations,
    instance_time,
    stored_observations,
)
from cityos.core.timefmt import now_iso
from cityos.runtime import Runtime

Reading = tuple[str, dict[str, Any]]  # attribute IRI, instance with observedAt


@dataclass
class Observed:
    """Observations of one entity: attribute instances, each with its ``observedAt``."""

    tenant: str
    entity_id: str
    types: list[str]  # type IRIs of the entity, if the observations create it
    owner: str | None  # the department that owns it, if they create it (None: the city's)
    readings: list[Reading] = field(default_factory=list)


@dataclass(frozen=True)
class ObserveResult:
    """What :func:`observe` did."""

    created: int  # entities made
    updated: int  # entities whose state changed
    history: int  # observations offered to the history (a replayed one is not stored again)


def observe(
    rt: Runtime, items: Sequence[Observed], *, also: Callable[[Connection], None] | None = None
) -> ObserveResult:
    """Store a batch of observations in one transaction (with ``also(conn)``); events after the commit.

    Several items of one entity are taken together. Raises only if the store fails, in which case
    nothing of the batch is stored.
    """
    for tenant in {i.tenant for i in items}:
        ensure_tenant(rt.db, tenant)
    job = partial(_observe_in, items=items, lock_rows=rt.db.locks_rows, also=also)
    try:
        report, events = rt.db.run_write(job)
    except IntegrityError:
        # another writer created one of these entities between our read and our insert (PostgreSQL):
        # run again; the rows are now seen as existing
        report, events = rt.db.run_write(job)
    rt.bus.publish(events)
    rt.db.note_growth(ENTITY_TABLES, report.created)
    return report


def _observe_in(
    conn: Connection, *, items: Sequence[Observed], lock_rows: bool, also: Callable[[Connection], None] | None
) -> tuple[ObserveResult, list[Event]]:
    now = now_iso()
    by_tenant: dict[str, dict[str, Observed]] = {}
    for item in items:
        group = by_tenant.setdefault(item.tenant, {})
        held = group.get(item.entity_id)
        if held is None:
            group[item.entity_id] = Observed(item.tenant, item.entity_id, item.types, item.owner, list(item.readings))
        else:
            held.readings.extend(item.readings)
    events: list[Event] = []
    created = updated = offered = 0
    for tenant, group in by_tenant.items():
        batch = _Batch(tenant, now)
        stored = store.fetch_many(conn, tenant, list(group), for_update=lock_rows)
        for entity_id, item in group.items():
            batch.take(stored.get(entity_id), item)
        past = batch.past()
        events += batch.finish(stored_observations(conn, tenant, past) if past else set())
        store.insert_many(conn, tenant, batch.inserts, batch.new_geo)
        moved = [r for r in batch.updates if r.pk in batch.moved_geo]
        store.update_many(conn, tenant, moved, geo=batch.moved_geo)
        store.update_states(conn, [r for r in batch.updates if r.pk not in batch.moved_geo] if moved else batch.updates)
        insert_observations(conn, tenant, batch.history, now)
        created, updated = created + len(batch.inserts), updated + len(batch.updates)
        offered += len(batch.history)
    if also is not None:
        also(conn)
    return ObserveResult(created, updated, offered), events


class _Batch:
    """The rows and events of one tenant's observations, built entity by entity."""

    def __init__(self, tenant: str, now: str) -> None:
        self.tenant, self.now = tenant, now
        self.inserts: list[EntityRow] = []
        self.updates: list[EntityRow] = []
        self.new_geo: dict[str, list[GeoRow]] = {}
        self.moved_geo: dict[int, list[GeoRow]] = {}
        self.history: list[HistoryRow] = []
        # per entity: (created, the entity, the attributes it changed, its observations, the current ones' ids)
        self._seen: list[tuple[bool, EntityRow, set[str], list[Reading], set[int], Attrs]] = []
        self._past: list[ObservationKey] = []
        self._times: dict[str, int] = {}

    def take(self, cur: EntityRow | None, item: Observed) -> None:
        now, entity_id = self.now, item.entity_id
        latest: dict[tuple[str, str], dict[str, Any]] = {}
        stamped: list[Reading] = []
        geo = False
        for attr, inst in item.readings:
            inst = dict(inst, createdAt=now, modifiedAt=now)
            stamped.append((attr, inst))
            geo = geo or inst.get("type") == GEOPROPERTY
            key = (attr, inst.get("datasetId") or "")
            best = latest.get(key)
            if best is None or best["observedAt"] <= inst["observedAt"]:  # the later of equal times wins
                latest[key] = inst
        row = cur if cur is not None else EntityRow(None, entity_id, list(item.types), None, {}, now, now, item.owner)
        attrs = row.attrs
        geo_before = geo_rows(attrs) if cur is not None and geo else None
        before = dict(attrs) if cur is not None else {}  # shallow: _newer replaces an attribute's list, never edits it
        changed: set[str] = set()
        current: set[int] = set()  # ids of the instances the entity now holds
        for (attr, ds), inst in latest.items():
            if _newer(attrs, attr, ds, inst, current):
                changed.add(attr)
        # the current instances first: of two with the same key the history keeps the first, which
        # must be the one the entity now holds
        if len(stamped) > len(current):
            stamped.sort(key=lambda ai: id(ai[1]) not in current)
        rows = [(entity_id, a, inst.get("datasetId") or "", self._ms(inst), inst) for a, inst in stamped]
        self.history += rows
        if len(stamped) > len(current):
            self._past += [(e, a, ds, ts) for e, a, ds, ts, inst in rows if id(inst) not in current]
        if cur is None:
            self.inserts.append(row)
            self.new_geo[entity_id] = geo_rows(attrs)
        elif changed:
            row.modified_at = now
            self.updates.append(row)
            if geo_before is not None and (boxes := geo_rows(attrs)) != geo_before:
                self.moved_geo[row.pk] = boxes  # type: ignore[index]
        self._seen.append((cur is None, row, changed, stamped, current, before))

    def past(self) -> list[ObservationKey]:
        """The keys of the observations that did not become current state: late ones, the older of two
        in the batch, or a replay's (which the history holds already)."""
        return self._past

    def _key(self, entity_id: str, attr: str, inst: dict[str, Any]) -> ObservationKey:
        return entity_id, attr, inst.get("datasetId") or "", self._ms(inst)

    def _ms(self, inst: dict[str, Any]) -> int:
        """The history's time of an instance; the measures of one message share theirs, so it is parsed once."""
        at = inst["observedAt"]
        ms = self._times.get(at)
        if ms is None:
            ms = self._times[at] = instance_time(inst, self.now)
        return ms

    def finish(self, stored: set[ObservationKey]) -> list[Event]:
        """Drop the observations the history holds already (a replay changes nothing, publishes nothing);
        the events of the rest."""
        if stored:
            self.history = [h for h in self.history if (h[0], h[1], h[2], h[3]) not in stored]
        events: list[Event] = []
        for created, row, changed, stamped, current, before in self._seen:
            if stored and len(stamped) > len(current):
                stamped = [(a, i) for a, i in stamped if id(i) in current or self._key(row.id, a, i) not in stored]
            if created:
                data: dict[str, Any] = {"id": row.id, "types": row.types, "attrs": row.attrs}
                data |= {"createdAt": row.created_at, "modifiedAt": row.modified_at}
                events.append(Event(ENTITY_CREATED, row.id, _with_observed(data, stamped, current), self.tenant))
            elif changed or len(stamped) > len(current):
                data = {"id": row.id, "types": row.types, "attrs": {a: row.attrs[a] for a in changed}, "removed": []}
                data |= {"previous": {a: before[a] for a in changed if a in before}}  # as the hub's other writes
                data |= {"createdAt": row.created_at, "modifiedAt": row.modified_at}
                events.append(Event(ENTITY_UPDATED, row.id, _with_observed(data, stamped, current), self.tenant))
        return events


def _newer(attrs: Attrs, attr: str, ds: str, inst: dict[str, Any], current: set[int]) -> bool:
    """Put ``inst`` in the entity's state if it is strictly newer than the instance held for its key."""
    held_list = attrs.get(attr)
    if not held_list:
        attrs[attr] = [inst]
        current.add(id(inst))
        return True
    if len(held_list) == 1:  # the common case: one instance, the default one
        at = 0 if (held_list[0].get("datasetId") or "") == ds else None
    else:
        at = next((n for n, i in enumerate(held_list) if (i.get("datasetId") or "") == ds), None)
    if at is None:
        attrs[attr] = [*held_list, inst]
    else:
        held = held_list[at]
        if (held.get("observedAt") or "") >= inst["observedAt"]:
            return False
        kept = dict(inst, createdAt=held.get("createdAt", inst["createdAt"]))  # the attribute was made then
        attrs[attr] = [*held_list[:at], kept, *held_list[at + 1 :]]
    current.add(id(inst))
    return True


def _with_observed(data: dict[str, Any], stamped: list[Reading], current: set[int]) -> dict[str, Any]:
    """The event's data, with every observation when the state it shows leaves some out."""
    if len(stamped) > len(current):
        observed: Attrs = {}
        for attr, inst in sorted(stamped, key=lambda ai: ai[1]["observedAt"]):
            observed.setdefault(attr, []).append(inst)
        data["observed"] = observed
    return data
