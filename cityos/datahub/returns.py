"""District return (数据属地返还, issue 18 item 5): a district's tenant sees the city-level records that concern
it, through a standing return grant, refreshed incrementally.

A return grant (数据返还授权), made by the big-data centre or an administrator in the city tenant
(``CITYOS_CITY_TENANT``), names catalogue entries of the city and a district: its tenant, its name (which
addresses write) and, optionally, its polygon (GeoJSON, or taken from an entity such as the demo's
``District``). It has no end date: it stands until it is ended. Making it copies the entries into the
district's catalogue (when it has no entry of that code), so that reads there are governed as in the city.

A return run reads the city's entities of the entries' types modified since the grant's watermark (every one
on the first run and on a full run), keeps those that concern the district (:mod:`cityos.datahub.return_area`,
and the entry's q filter), cut to the entry's items, and upserts them into the district's tenant: new,
changed, removed (a record that left the district; on a full run also one gone from the city) or unchanged.
Each record read for the district is appended to the audit chain as a read by the district, before it is
written. The run is stored with its counts and the new watermark (the newest modifiedAt it read). A rerun
finds everything unchanged: runs are idempotent.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial
from typing import Any

from cityos import context as hub
from cityos.auth import tenant_exists
from cityos.core.timefmt import format_ts, now_iso, parse_ts
from cityos.datahub import return_store as store
from cityos.datahub.audit import AuditRead, append
from cityos.datahub.catalogue import get_entry, register_entry
from cityos.datahub.datasets import SUBJECT_KINDS
from cityos.datahub.errors import (
    EntryNotFound,
    InvalidReturn,
    ReturnConflict,
    ReturnNotFound,
    ReturnRunNotFound,
    UnknownTenant,
)
from cityos.datahub.models import CatalogueEntry
from cityos.datahub.return_area import District, parse_area
from cityos.runtime import Runtime

SCENARIO = "数据属地返还"  # the scenario the audit chain names for every read of a return
STANDING, ENDED = "standing", "ended"
CHUNK = 2000  # city records per chunk: one audit record and one write to the district per chunk
MAX_LIST = 100


@dataclass(frozen=True)
class ReturnGrant:
    """A standing return grant: the city's entries ``codes`` returned to ``district_tenant``."""

    id: str
    district_tenant: str
    district: str
    codes: tuple[str, ...]
    area: dict[str, Any] | None
    area_entity: str | None
    state: str
    watermark: str | None
    made_by: str
    made_at: str
    ended_by: str | None = None
    ended_at: str | None = None
    reason: str | None = None


@dataclass(frozen=True)
class ReturnRun:
    """One run's report: the city records read, and what became of those concerning the district."""

    id: str
    grant_id: str
    district_tenant: str
    by: str
    at: str
    full: bool
    read: int
    new: int
    changed: int
    removed: int
    unchanged: int
    since: str | None
    watermark: str | None
    seconds: float

    @property
    def touched(self) -> int:
        """Records written in the district's tenant (new, changed, removed)."""
        return self.new + self.changed + self.removed


def city_tenant(rt: Runtime) -> str:
    """The tenant that holds the city-level entities (``CITYOS_CITY_TENANT``, else the default tenant)."""
    return rt.settings.city_tenant or rt.settings.default_tenant


def _grant(row: dict[str, Any]) -> ReturnGrant:
    fields = ("id", "district_tenant", "district", "area", "area_entity", "state", "watermark", "made_by",
              "made_at", "ended_by", "ended_at", "reason")  # fmt: skip
    return ReturnGrant(codes=tuple(row["codes"]), **{f: row[f] for f in fields})


def _run(row: dict[str, Any]) -> ReturnRun:
    fields = ("id", "grant_id", "district_tenant", "by", "at", "full", "read", "new", "changed", "removed",
              "unchanged", "since", "watermark", "seconds")  # fmt: skip
    return ReturnRun(**{f: row[f] for f in fields})


def grant_not_found(grant_id: str) -> ReturnNotFound:
    return ReturnNotFound(f"there is no return grant {grant_id!r}: GET /datahub/returns lists them")


# --- grants --------------------------------------------------------------------------------------------------


def _area_of(rt: Runtime, city: str, area: Any | None, area_entity: str | None) -> dict[str, Any] | None:
    if area is not None and area_entity is not None:
        raise InvalidReturn("give the district's area or the entity to take it from, not both")
    if area_entity is None:
        if area is not None:
            parse_area(area)
        return area
    row = hub.find_entity(rt, city, area_entity)
    location = row.attrs.get(hub.core_term_map().expand("location")) if row is not None else None
    geometry = next((i.get("value") for i in location or () if i.get("type") == "GeoProperty"), None)
    if geometry is None:
        raise InvalidReturn(f"the city tenant has no entity {area_entity!r} with a location to take the area from")
    parse_area(geometry)
    return dict(geometry)


def _entries(rt: Runtime, city: str, codes: Sequence[str]) -> list[CatalogueEntry]:
    if not codes:
        raise InvalidReturn("a return grant names at least one catalogue entry (codes)")
    entries = [get_entry(rt, city, code) for code in dict.fromkeys(codes)]  # EntryNotFound names the code
    for entry in entries:
        if not entry.backing.entity_types:
            raise InvalidReturn(f"entry {entry.code} is not kept as entities of the data hub: only those are returned")
    return entries


def make_return(
    rt: Runtime,
    district_tenant: str,
    district: str,
    codes: Sequence[str],
    *,
    by: str,
    area: dict[str, Any] | None = None,
    area_entity: str | None = None,
) -> ReturnGrant:
    """A standing grant returning the city's entries ``codes`` to ``district_tenant`` (the district named
    ``district``, with its polygon ``area`` or that of the city's entity ``area_entity``). UnknownTenant (404),
    EntryNotFound (404), InvalidReturn (400), ReturnConflict (409: an entry returned there by another grant)."""
    city = city_tenant(rt)
    district = district.strip()
    if district_tenant == city:
        raise InvalidReturn(f"{city!r} is the city tenant the records come from: name the district's tenant")
    if not district:
        raise InvalidReturn("name the district as its addresses write it (e.g. 黄浦区)")
    if district_tenant != rt.settings.default_tenant and not tenant_exists(rt.db, district_tenant):
        raise UnknownTenant(f"tenant {district_tenant!r} does not exist: a district's tenant is made by its first "
                            "write (e.g. its District entity with NGSILD-Tenant)")  # fmt: skip
    entries = _entries(rt, city, codes)
    geometry = _area_of(rt, city, area, area_entity)
    with rt.db.connect() as conn:
        others = store.grants(conn, city, district_tenant, STANDING, 10_000, 0)
    for other in others:
        taken = sorted(set(other["codes"]) & {e.code for e in entries})
        if taken:
            raise ReturnConflict(f"{', '.join(taken)} already returned to {district_tenant!r} by grant {other['id']}: "
                                 "end it first, or leave the entry out")  # fmt: skip
    for entry in entries:  # the district reads the records under the city's levels and sharing
        try:
            get_entry(rt, district_tenant, entry.code)
        except EntryNotFound:
            register_entry(rt, district_tenant, entry, by=by, reason=f"{SCENARIO}: returned from {city}")
    now = now_iso()
    row = {"tenant": city, "id": uuid.uuid4().hex[:16], "district_tenant": district_tenant, "district": district,
           "codes": [e.code for e in entries], "area": geometry, "area_entity": area_entity, "state": STANDING,
           "watermark": None, "made_by": by, "made_at": now, "made_at_ms": int(time.time() * 1000),
           "ended_by": None, "ended_at": None, "reason": None}  # fmt: skip
    rt.db.run_write(lambda conn: store.insert_grant(conn, row))
    return _grant(row)


def get_return(rt: Runtime, grant_id: str) -> ReturnGrant:
    """One return grant; ReturnNotFound (404)."""
    with rt.db.connect() as conn:
        row = store.get_grant(conn, city_tenant(rt), grant_id)
    if row is None:
        raise grant_not_found(grant_id)
    return _grant(row)


def list_returns(
    rt: Runtime, *, district_tenant: str | None = None, state: str | None = None, limit: int = 20, offset: int = 0
) -> tuple[list[ReturnGrant], int]:
    """A page of return grants, newest first (to one district's tenant, in one state), and their total."""
    city = city_tenant(rt)
    with rt.db.connect() as conn:
        rows = store.grants(conn, city, district_tenant, state, min(max(limit, 0), MAX_LIST), max(offset, 0))
        total = store.count_grants(conn, city, district_tenant, state)
    return [_grant(r) for r in rows], total


def end_return(rt: Runtime, grant_id: str, *, by: str, reason: str) -> ReturnGrant:
    """End a standing grant: the records it returned are removed from the district's tenant and no run takes
    it again. ReturnConflict (409) when it has ended already; InvalidReturn when no reason is given."""
    if not reason.strip():
        raise InvalidReturn("say why the return ends: the district reads it")
    grant = get_return(rt, grant_id)
    if grant.state != STANDING:
        raise ReturnConflict(f"return grant {grant_id} ended already ({grant.ended_at}, by {grant.ended_by})")
    city = city_tenant(rt)
    with rt.db.connect() as conn:
        chunks = list(store.all_returned(conn, city, grant_id))
    for ids in chunks:
        hub.apply(rt, grant.district_tenant, [(i, _absent_after()) for i in ids])
        rt.db.run_write(partial(store.forget, tenant=city, grant_id=grant_id, ids=ids))
    values = {"state": ENDED, "ended_by": by, "ended_at": now_iso(), "reason": reason.strip()}
    rt.db.run_write(lambda conn: store.update_grant(conn, city, grant_id, values))
    return get_return(rt, grant_id)


# --- runs ------------------------------------------------------------------------------------------------


@dataclass
class _Counts:
    read: int = 0
    new: int = 0
    changed: int = 0
    removed: int = 0
    unchanged: int = 0
    # id -> modifiedAt of what this run read: an entity modified meanwhile comes again, and is taken again
    done: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class _Entry:
    """An entry as a run reads it: its items' attribute IRIs, those that hold geometries and addresses."""

    entry: CatalogueEntry
    items: tuple[str, ...]
    geometries: tuple[str, ...]
    addresses: tuple[str, ...]
    subjects: tuple[str, ...]
    q: hub.QExpr | None

    @classmethod
    def of(cls, entry: CatalogueEntry, tm: hub.TermMap) -> _Entry:
        def of_kind(*kinds: str) -> tuple[str, ...]:
            return tuple(tm.expand(i.name) for i in entry.items if i.kind in kinds)

        q = hub.parse_q(entry.backing.q) if entry.backing.q else None
        return cls(entry, of_kind(*(i.kind for i in entry.items)), of_kind("geo"), of_kind("address"),
                   of_kind(*SUBJECT_KINDS), q)  # fmt: skip


def _values(row: hub.EntityRow, iris: Sequence[str]) -> list[Any]:
    return [i.get("value") for iri in iris for i in row.attrs.get(iri, ())]


def _upsert(entity_id: str, types: list[str], attrs: hub.Attrs) -> hub.Mutation:
    """The district's copy made, replaced when it differs, left alone when it is the same."""

    def run(cur: hub.EntityRow | None, now: str) -> hub.Change:
        if cur is None:
            return hub.Change(hub.EntityRow(None, entity_id, types, None, attrs, now, now), changed=set(attrs))
        if cur.types == types and cur.attrs == attrs:
            return hub.Change(cur)
        changed = {a for a, v in attrs.items() if cur.attrs.get(a) != v}
        removed = set(cur.attrs) - set(attrs)
        cur.types, cur.attrs, cur.modified_at = types, attrs, now
        return hub.Change(cur, changed=changed, removed=removed)

    return run


def _absent_after() -> hub.Mutation:
    """The district's copy removed, if it is there."""

    def run(cur: hub.EntityRow | None, now: str) -> hub.Change:
        return hub.Change(None, removed=set(cur.attrs) if cur is not None else set())

    return run


class _Pass:
    """One run over one grant: the district, what it counts, the watermark it reaches."""

    def __init__(self, rt: Runtime, grant: ReturnGrant, by: str, full: bool) -> None:
        self.rt, self.grant, self.by, self.full = rt, grant, by, full
        self.city = city_tenant(rt)
        self.district = District.of(grant.district, grant.area)
        self.tm = hub.core_term_map()
        self.counts = _Counts()
        self.watermark = grant.watermark

    def chunk(self, spec: _Entry, rows: list[hub.EntityRow]) -> None:
        rows = [r for r in rows if self.counts.done.get(r.id) != r.modified_at]
        self.counts.done.update((r.id, r.modified_at) for r in rows)
        self.counts.read += len(rows)
        if rows:
            newest = max(r.modified_at for r in rows)
            self.watermark = max(self.watermark or newest, newest)
        with self.rt.db.connect() as conn:
            held = store.held(conn, self.city, self.grant.id, [r.id for r in rows])
        upserts: list[hub.EntityRow] = []
        gone: list[str] = []
        for row in rows:
            if self._concerns(spec, row):
                if not self.full and held.get(row.id) == row.modified_at:
                    self.counts.unchanged += 1  # returned at this version already (read again by the overlap)
                else:
                    upserts.append(row)
            elif row.id in held:
                gone.append(row.id)
        if upserts:  # audited before the district gets them
            append(self.rt, self.city, [self._audit(spec, upserts)])
        self._write(spec, upserts, gone, held)

    def _concerns(self, spec: _Entry, row: hub.EntityRow) -> bool:
        if spec.q is not None and not hub.eval_q(spec.q, row.attrs, self.tm.expand):
            return False
        return self.district.concerns(_values(row, spec.geometries), _values(row, spec.addresses))

    def _audit(self, spec: _Entry, rows: list[hub.EntityRow]) -> AuditRead:
        subjects = {str(v) for r in rows for v in _values(r, spec.subjects) if v}
        return AuditRead(principal=self.by, code=spec.entry.code, route=f"return {self.grant.id}",
                         records=tuple(r.id for r in rows), subjects=tuple(subjects), department=self.grant.district,
                         grant=self.grant.id, scenario=SCENARIO,
                         purpose=f"returned to the district's tenant {self.grant.district_tenant}")  # fmt: skip

    def _write(self, spec: _Entry, upserts: list[hub.EntityRow], gone: list[str], held: dict[str, str]) -> None:
        ops = [(r.id, _upsert(r.id, r.types, {a: r.attrs[a] for a in spec.items if a in r.attrs})) for r in upserts]
        ops += [(i, _absent_after()) for i in gone]
        if not ops:
            return
        for outcome in hub.apply(self.rt, self.grant.district_tenant, ops, creates=True):
            self._count(outcome)
        remembered = [(r.id, spec.entry.code, r.modified_at) for r in upserts if held.get(r.id) != r.modified_at]
        if not remembered and not gone:
            return
        self.rt.db.run_write(partial(store.remember, tenant=self.city, grant_id=self.grant.id, rows=remembered,
                                     gone=gone))  # fmt: skip

    def _count(self, outcome: hub.Outcome) -> None:
        if outcome.error is not None:
            raise outcome.error
        change = outcome.change
        if outcome.created:
            self.counts.new += 1
        elif outcome.deleted:
            self.counts.removed += 1
        elif change is not None and change.row is not None:
            touched = change.changed or change.removed
            self.counts.changed += 1 if touched else 0
            self.counts.unchanged += 0 if touched else 1

    def vanished(self) -> None:
        """A full run's last step: the records the grant returned that it did not find concerning the
        district (gone from the city, or no longer of the entries) are removed."""
        with self.rt.db.connect() as conn:
            chunks = list(store.all_returned(conn, self.city, self.grant.id))
        for ids in chunks:
            stale = [i for i in ids if i not in self.counts.done]
            if stale:
                for outcome in hub.apply(self.rt, self.grant.district_tenant, [(i, _absent_after()) for i in stale]):
                    self._count(outcome)
                self.rt.db.run_write(partial(store.forget, tenant=self.city, grant_id=self.grant.id, ids=stale))


def run_return(
    rt: Runtime, grant_id: str, *, by: str, full: bool = False, progress: Callable[[int], None] | None = None
) -> ReturnRun:
    """Run a standing grant: incrementally from its watermark, or over every record (``full``, and always the
    first time). ``progress`` is told how many city records were read after every chunk. ReturnNotFound (404),
    ReturnConflict (409: the grant has ended)."""
    started, at = time.perf_counter(), now_iso()
    grant = get_return(rt, grant_id)
    if grant.state != STANDING:
        raise ReturnConflict(f"return grant {grant_id} has ended ({grant.ended_at}): make a new one to return again")
    full = full or grant.watermark is None
    since = None if full else _before(grant.watermark or "", rt.settings.return_overlap_seconds)
    run = _Pass(rt, grant, by, full)
    for code in grant.codes:
        spec = _Entry.of(get_entry(rt, run.city, code), run.tm)
        for etype in spec.entry.backing.entity_types:
            for rows in hub.entities_changed(rt, run.city, etype, run.tm, since, chunk=CHUNK):
                run.chunk(spec, rows)
                if progress is not None:
                    progress(run.counts.read)
    if full:
        run.vanished()
        # a full run reads in entity order: one modified behind its read while a later one was read after its
        # own change must come again next time, so the watermark stays at the run's start
        run.watermark = min(run.watermark or at, at)
    c = run.counts
    row = {"tenant": run.city, "id": uuid.uuid4().hex[:16], "grant_id": grant_id,
           "district_tenant": grant.district_tenant, "by": by, "at": at, "at_ms": int(time.time() * 1000),
           "full": full, "read": c.read, "new": c.new, "changed": c.changed, "removed": c.removed,
           "unchanged": c.unchanged, "since": since, "watermark": run.watermark,
           "seconds": round(time.perf_counter() - started, 3)}  # fmt: skip

    def job(conn: Any) -> None:
        store.insert_run(conn, row)
        store.update_grant(conn, run.city, grant_id, {"watermark": run.watermark})

    rt.db.run_write(job)
    return _run(row)


def _before(stamp: str, seconds: float) -> str:
    return format_ts(parse_ts(stamp) - timedelta(seconds=seconds)) if seconds else stamp


def run_standing(rt: Runtime, *, by: str = "return-runner") -> list[ReturnRun]:
    """Run every standing grant incrementally (the runner's round)."""
    grants, _ = list_returns(rt, state=STANDING, limit=MAX_LIST)
    runs: list[ReturnRun] = []
    offset = MAX_LIST
    while grants:
        runs += [run_return(rt, g.id, by=by) for g in grants]
        grants, _ = list_returns(rt, state=STANDING, limit=MAX_LIST, offset=offset)
        offset += MAX_LIST
    return runs


def get_return_run(rt: Runtime, run_id: str) -> ReturnRun:
    """One run's report; ReturnRunNotFound (404)."""
    with rt.db.connect() as conn:
        row = store.get_run(conn, city_tenant(rt), run_id)
    if row is None:
        raise ReturnRunNotFound(f"there is no return run {run_id!r}: GET /datahub/returns/{{id}}/runs lists them")
    return _run(row)


def return_runs(rt: Runtime, grant_id: str, *, limit: int = 20, offset: int = 0) -> tuple[list[ReturnRun], int]:
    """A page of a grant's runs, newest first, and their total."""
    city = city_tenant(rt)
    with rt.db.connect() as conn:
        rows = store.runs(conn, city, grant_id, min(max(limit, 0), MAX_LIST), max(offset, 0))
        total = store.count_runs(conn, city, grant_id)
    return [_run(r) for r in rows], total
