"""Objections (数据异议纠错) over the runtime: a department that read a record objects to one item's value; the
objection goes to the item's one source (一数一源), who verifies and corrects the value or rejects the
objection within a time limit on the working-day calendar; on a correction every department that read the
record is told; while an objection is open the item is flagged disputed wherever the record is read.

The workflow table (:mod:`cityos.datahub.objection_workflow`) judges every move; the audit chain
(:func:`cityos.datahub.audit.reads_of_record`) says who read what; the data hub (``cityos.context``) holds the
records and takes the corrections, written as the record's keeper. Events (``datahub.objection.<action>``) are
published after the commit.
"""

from __future__ import annotations

import dataclasses
import threading
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from operator import itemgetter
from typing import Any

from sqlalchemy import Connection

from cityos import context as hub
from cityos.bus import Event as BusEvent
from cityos.datahub import objection_store as store
from cityos.datahub.audit import reads_of_record
from cityos.datahub.catalogue import get_entry, view_entry
from cityos.datahub.decisions import OBJECTIONS_STAMP_ID, read_stamp
from cityos.datahub.errors import (
    InvalidObjection,
    NotOwnRecord,
    ObjectionExists,
    ObjectionMoveRefused,
    ObjectionNotFound,
    ValueNotRead,
)
from cityos.datahub.masking import mask_value
from cityos.datahub.models import CatalogueEntry, DataItem
from cityos.datahub.objection_clock import due_after
from cityos.datahub.objection_store import Row
from cityos.datahub.objection_workflow import (
    EFFECTS,
    TIME_LIMIT_WORKING_DAYS,
    Actor,
    ObjectionAction,
    ObjectionEvent,
    ObjectionState,
    action_of,
    is_open,
    state_of,
    transition,
)
from cityos.runtime import Runtime

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MAX_LIST = 1000
DISPUTED = "disputed"  # the member a read record carries (dataset reads), the sub-property (NGSI-LD reads)


@dataclass(frozen=True)
class ObjectionRecord:
    """An objection as it is now, with its history; ``overdue`` is judged at the read's time."""

    id: str
    code: str
    record_id: str
    item: str
    source: str
    objector: str
    objector_principal: str
    read_seq: int
    evidence: str
    value: Any
    proposed: Any
    corrected: Any
    state: ObjectionState
    reason: str | None
    created_at: datetime
    due_at: datetime
    closed_at: datetime | None
    updated_at: datetime
    overdue: bool
    history: tuple[ObjectionEvent, ...] = ()
    notified: tuple[str, ...] = ()


@dataclass(frozen=True)
class Notice:
    """A department told that a value it read was corrected at its source."""

    department: str
    objection_id: str
    code: str
    record_id: str
    item: str
    before: Any
    after: Any
    last_read_seq: int
    at: datetime


def _now() -> datetime:
    return datetime.now(UTC)


def _ms(t: datetime) -> int:
    return (t - EPOCH) // timedelta(milliseconds=1)


def _from_ms(value: int) -> datetime:
    return EPOCH + timedelta(milliseconds=value)


def _exact(t: datetime) -> datetime:
    t = t.astimezone(UTC)
    return t.replace(microsecond=t.microsecond // 1000 * 1000)


# --- rows <-> model ----------------------------------------------------------------------------------------


def _event(row: Row) -> ObjectionEvent:
    return ObjectionEvent(
        action=ObjectionAction(row["action"]), by=row["by"], by_department=row["by_department"],
        at=datetime.fromisoformat(row["at"]),
        from_state=ObjectionState(row["from_state"]) if row["from_state"] else None,
        to_state=ObjectionState(row["to_state"]), reason=row["reason"], changes=row["changes"] or {},
    )  # fmt: skip


def _record(row: Row, history: Iterable[Row], now: datetime, notified: Sequence[str] = ()) -> ObjectionRecord:
    state = ObjectionState(row["state"])
    return ObjectionRecord(
        id=row["id"], code=row["code"], record_id=row["record_id"], item=row["item"], source=row["source"],
        objector=row["objector"], objector_principal=row["objector_principal"], read_seq=row["read_seq"],
        evidence=row["evidence"], value=row["value"], proposed=row["proposed"], corrected=row["corrected"],
        state=state, reason=row["reason"], created_at=_from_ms(row["created_at_ms"]),
        due_at=_from_ms(row["due_at_ms"]),
        closed_at=_from_ms(row["closed_at_ms"]) if row["closed_at_ms"] is not None else None,
        updated_at=_from_ms(row["updated_at_ms"]), overdue=is_open(state) and _ms(now) >= row["due_at_ms"],
        history=tuple(_event(r) for r in history), notified=tuple(notified),
    )  # fmt: skip


def _history_row(tenant: str, objection_id: str, seq: int, ev: ObjectionEvent) -> Row:
    return {"tenant": tenant, "objection_id": objection_id, "seq": seq,
            "at": ev.at.isoformat(timespec="milliseconds"), "action": str(ev.action), "by": ev.by,
            "by_department": ev.by_department, "reason": ev.reason,
            "from_state": str(ev.from_state) if ev.from_state else None, "to_state": str(ev.to_state),
            "changes": ev.changes}  # fmt: skip


def _publish(rt: Runtime, tenant: str, record: ObjectionRecord, ev: ObjectionEvent) -> None:
    """``datahub.objection.<state reached>``: submitted, verifying, corrected (with the departments told),
    rejected, withdrawn."""
    data: dict[str, Any] = {
        "objectionId": record.id, "code": record.code, "recordId": record.record_id, "item": record.item,
        "source": record.source, "objector": record.objector, "state": str(record.state),
        "action": str(ev.action), "by": ev.by,
    }  # fmt: skip
    if ev.action == ObjectionAction.CORRECT:
        data["notified"] = list(record.notified)
    rt.bus.publish([BusEvent(f"datahub.objection.{record.state}", record.id, data, tenant)])


def _load(conn: Connection, tenant: str, objection_id: str) -> Row:
    row = store.get_objection(conn, tenant, objection_id)
    if row is None:
        raise ObjectionNotFound(f"there is no objection {objection_id!r}: list the objections to find it")
    return row


# --- what an objection is about ----------------------------------------------------------------------------


def _item(entry: CatalogueEntry, name: str) -> DataItem:
    found = next((i for i in entry.items if i.name == name), None)
    if found is None:
        names = ", ".join(i.name for i in entry.items)
        raise InvalidObjection(f"entry {entry.code} has no data item {name!r}: its items are {names}", field="item")
    return found


def item_source(rt: Runtime, tenant: str, entry: CatalogueEntry, item: DataItem) -> str:
    """The item's one source (一数一源): the department the catalogue registered for its key, else the one
    the entry names."""
    registered = view_entry(rt, tenant, entry.code).sources.get(item.name)
    return registered.department if registered is not None else entry.source_of(item)


def _current(rt: Runtime, tenant: str, entry: CatalogueEntry, record_id: str, item: str) -> Any:
    """The item's value in the record as the data hub holds it now (keyValues)."""
    if not entry.backing.entity_types:
        raise InvalidObjection(f"entry {entry.code} is not served from the data hub: its records cannot be objected "
                               "to through this API yet", field="code")  # fmt: skip
    tm = hub.core_term_map()
    row = hub.find_entity(rt, tenant, record_id)
    if row is None or not {tm.compact(t) for t in row.types} & set(entry.backing.entity_types):
        raise InvalidObjection(f"entry {entry.code} has no record {record_id!r}: object to a record you read",
                               field="recordId")  # fmt: skip
    return hub.key_values(row.id, row.types, row.attrs, tm).get(item)


# --- the use cases -----------------------------------------------------------------------------------------


def submit_objection(
    rt: Runtime,
    tenant: str,
    code: str,
    record_id: str,
    item: str,
    evidence: str,
    department: str,
    by: str,
    *,
    proposed: Any = None,
    now: datetime | None = None,
) -> ObjectionRecord:
    """``department`` objects to the value of ``item`` in record ``record_id`` of entry ``code``, with
    ``evidence`` and the value it believes right (``proposed``, optional). The objection goes to the item's
    one source, due within TIME_LIMIT_WORKING_DAYS working days.

    ValueNotRead (403) when the audit chain holds no read of the record by ``department``; InvalidObjection
    (400) for an unknown item or record, empty evidence, an objection by the item's own source;
    ObjectionExists (409) when the department has an open objection on the item already."""
    now = _exact(now or _now())
    entry = get_entry(rt, tenant, code)
    data_item = _item(entry, item)
    source = item_source(rt, tenant, entry, data_item)
    if not evidence.strip():
        raise InvalidObjection("an objection gives its evidence: say what is wrong and how you know", field="evidence")
    if department == source:
        raise InvalidObjection(f"{department!r} is the source of {item!r} (一数一源): correct the value at the source "
                               "instead of objecting to it", field="item")  # fmt: skip
    from cityos.datahub.datasets import Reader, access_of  # datasets flags the records objections name

    access = access_of(rt, tenant, entry, Reader(by, department, False), datetime.now(UTC))  # may it read it now
    if item not in access.shown and item not in access.masked:
        raise ValueNotRead(
            f"{department!r} may not read {item!r} of entry {code} (no grant in force shows it): only a value read "
            "can be objected to",
            code=code, recordId=record_id, department=department,
        )  # fmt: skip
    reads = reads_of_record(rt, tenant, code, record_id, department=department, limit=1)
    if not reads:
        raise ValueNotRead(
            f"{department!r} never read record {record_id} of entry {code} (the audit chain holds no such read): "
            f"only a value read can be objected to; read it first (GET /datahub/datasets/{code}/records)",
            code=code, recordId=record_id, department=department,
        )  # fmt: skip
    return _file(rt, tenant, entry, record_id, item, source, department, by, department, reads[0].seq, evidence,
                 proposed, now,
                 lambda held: f"{department!r} has an open objection on {item!r} of {record_id} already: "
                              f"{held['id']} ({held['state']})")  # fmt: skip


def _file(
    rt: Runtime, tenant: str, entry: CatalogueEntry, record_id: str, item: str, source: str, objector: str,
    by: str, department: str | None, read_seq: int, evidence: str, proposed: Any, now: datetime,
    exists: Callable[[Row], str],
) -> ObjectionRecord:  # fmt: skip
    """Store a submitted objection with its first history row, unless ``objector`` has one open on the item
    (ObjectionExists, saying ``exists(held)``), and tell the bus."""
    value = _current(rt, tenant, entry, record_id, item)
    oid = uuid.uuid4().hex[:16]
    row = {"tenant": tenant, "id": oid, "code": entry.code, "record_id": record_id, "item": item, "source": source,
           "objector": objector, "objector_principal": by, "read_seq": read_seq,
           "evidence": evidence.strip(), "value": value, "proposed": proposed, "corrected": None,
           "state": str(ObjectionState.SUBMITTED), "reason": None, "created_at_ms": _ms(now),
           "due_at_ms": _ms(due_after(rt, now, TIME_LIMIT_WORKING_DAYS)), "closed_at_ms": None,
           "updated_at_ms": _ms(now), "version": 1}  # fmt: skip
    ev = ObjectionEvent(ObjectionAction.SUBMIT, by, department, now, None, ObjectionState.SUBMITTED, None,
                        {"value": value, "proposed": proposed})  # fmt: skip
    history = [_history_row(tenant, oid, 1, ev)]
    with rt.db.write() as conn:
        held = store.open_by(conn, tenant, record_id, item, objector)
        if held is not None:
            raise ObjectionExists(exists(held), objectionId=held["id"])
        store.insert_objection(conn, row)
        store.append_history(conn, history)
    record = _record(row, history, now)
    _publish(rt, tenant, record, ev)
    return record


def _write_value(rt: Runtime, tenant: str, record_id: str, item: str, value: Any, now: datetime) -> None:
    """Put the corrected value in the record, through the data hub, as the record's keeper."""
    tm = hub.core_term_map()
    body = {"id": record_id, item: {"type": "Property", "value": value}}
    parsed = hub.parse_entity(body, tm, now=now.isoformat(), need_type=False)
    keeper = hub.keepers(rt, tenant, [record_id]).get(record_id)
    writer = hub.Writer(keeper, own_only=keeper is not None)
    hub.one(rt, tenant, record_id, hub.m_merge(parsed), writer=writer)


def _notices(rt: Runtime, tenant: str, row: Row, after: Any, now: datetime) -> list[Row]:
    """One notice for each department that read the record before the correction (the source aside)."""
    last: dict[str, int] = {}
    for read in reads_of_record(rt, tenant, row["code"], row["record_id"]):
        if read.department and read.department != row["source"]:
            last[read.department] = read.seq
    return [{"tenant": tenant, "department": d, "objection_id": row["id"], "code": row["code"],
             "record_id": row["record_id"], "item": row["item"], "before": row["value"], "after": after,
             "last_read_seq": seq, "at_ms": _ms(now)} for d, seq in sorted(last.items())]  # fmt: skip


def move_objection(
    rt: Runtime,
    tenant: str,
    objection_id: str,
    action: ObjectionAction | str,
    by: str,
    by_department: str | None,
    *,
    reason: str | None = None,
    value: Any = None,
    city: bool = False,
    now: datetime | None = None,
) -> ObjectionRecord:
    """Move an objection: ``accept`` (take it up to verify), ``correct`` (with the corrected ``value``; None:
    the value the objector proposed), ``reject`` (with a ``reason``), ``withdraw`` (the objector). A
    correction is written to the record and told to every department that read it. ObjectionMoveRefused (409)
    names the allowed moves, ObjectionMoveForbidden (403) who may move, InvalidObjection (400) what is missing."""
    now = _exact(now or _now())
    action = action_of(action)
    if action == ObjectionAction.SUBMIT:
        raise InvalidObjection("an objection is submitted once, when it is made: submit a new one instead")
    with rt.db.connect() as conn:
        row = _load(conn, tenant, objection_id)
    effect = EFFECTS[action]
    if effect.writes_value and value is None:
        value = row["proposed"]
    to, ev = transition(objection_id, ObjectionState(row["state"]), row["objector"], row["source"], action,
                        Actor(by, by_department, city), now, reason=reason, value=value)  # fmt: skip
    if effect.writes_value:  # before the objection moves: a refused write leaves it as it was
        _write_value(rt, tenant, row["record_id"], row["item"], value, now)
    notices = _notices(rt, tenant, row, value, now) if effect.notifies_readers else []
    changes: Row = {"state": str(to), "updated_at_ms": _ms(now), "version": row["version"] + 1}
    if ev.reason is not None:
        changes["reason"] = ev.reason
    if effect.writes_value:
        changes["corrected"] = value
    if effect.closes:
        changes["closed_at_ms"] = _ms(now)
    with rt.db.write() as conn:
        if not store.update_objection(conn, tenant, objection_id, row["version"], changes):
            raise ObjectionMoveRefused(f"objection {objection_id} was moved by someone else meanwhile: read it "
                                       "again and retry", objectionId=objection_id)  # fmt: skip
        store.append_history(conn, [_history_row(tenant, objection_id, row["version"] + 1, ev)])
        store.insert_notices(conn, notices)
        history = store.histories(conn, tenant, [objection_id])[objection_id]
        notified = store.notified(conn, tenant, objection_id)
    record = _record({**row, **changes}, history, now, notified)
    _publish(rt, tenant, record, ev)
    return record


def get_objection(rt: Runtime, tenant: str, objection_id: str, *, now: datetime | None = None) -> ObjectionRecord:
    """One objection with its history and the departments told of its correction; ObjectionNotFound (404)."""
    with rt.db.connect() as conn:
        row = _load(conn, tenant, objection_id)
        history = store.histories(conn, tenant, [objection_id])[objection_id]
        notified = store.notified(conn, tenant, objection_id)
    return _record(row, history, now or _now(), notified)


def _filters(source: str | None, objector: str | None, party: str | None, code: str | None,
             record_id: str | None, state: ObjectionState | str | None, overdue: bool | None) -> Row:  # fmt: skip
    return {"source": source, "objector": objector, "party": party, "code": code, "record_id": record_id,
            "state": str(state_of(state)) if state is not None else None, "overdue": overdue}  # fmt: skip


def list_objections(
    rt: Runtime,
    tenant: str,
    *,
    source: str | None = None,
    objector: str | None = None,
    party: str | None = None,
    code: str | None = None,
    record_id: str | None = None,
    state: ObjectionState | str | None = None,
    overdue: bool | None = None,
    now: datetime | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[ObjectionRecord]:
    """Objections on ``source``'s items, by ``objector``, either (``party``), of an entry, of a record, in a
    state, overdue or not: the overdue first, then the open by due time, then the closed, newest first."""
    now = now or _now()
    filters = _filters(source, objector, party, code, record_id, state, overdue)
    with rt.db.connect() as conn:
        rows = store.search(conn, tenant, filters, _ms(now), min(max(limit, 0), MAX_LIST), max(offset, 0))
        histories = store.histories(conn, tenant, [r["id"] for r in rows])
    return [_record(r, histories[r["id"]], now) for r in rows]


def count_objections(
    rt: Runtime,
    tenant: str,
    *,
    source: str | None = None,
    objector: str | None = None,
    party: str | None = None,
    code: str | None = None,
    record_id: str | None = None,
    state: ObjectionState | str | None = None,
    overdue: bool | None = None,
    now: datetime | None = None,
) -> int:
    """How many objections :func:`list_objections` finds with the same filters, over every page."""
    filters = _filters(source, objector, party, code, record_id, state, overdue)
    with rt.db.connect() as conn:
        return store.count(conn, tenant, filters, _ms(now or _now()))


def correction_notices(
    rt: Runtime, tenant: str, department: str | None, *, limit: int = 100, offset: int = 0
) -> tuple[list[Notice], int]:
    """The notices of corrections to ``department`` (None: every department's), newest first, and their total."""
    with rt.db.connect() as conn:
        rows = store.notices(conn, tenant, department, min(max(limit, 0), MAX_LIST), max(offset, 0))
        total = store.count_notices(conn, tenant, department)
    found = [Notice(r["department"], r["objection_id"], r["code"], r["record_id"], r["item"], r["before"], r["after"],
                    r["last_read_seq"], _from_ms(r["at_ms"])) for r in rows]  # fmt: skip
    return found, total


# --- the dispute flag on reads -----------------------------------------------------------------------------


def disputed_items(rt: Runtime, tenant: str, record_ids: Sequence[str]) -> dict[str, dict[str, list[str]]]:
    """record id -> item -> the ids of the open objections on it, for a page of records: one query."""
    found: dict[str, dict[str, list[str]]] = {}
    if not record_ids:
        return found
    with rt.db.connect() as conn:
        for record_id, item, oid in store.disputed(conn, tenant, record_ids):
            found.setdefault(record_id, {}).setdefault(item, []).append(oid)
    return found


Disputed = dict[str, dict[str, list[str]]]  # record id -> item -> the ids of the open objections on it


class OpenObjections:
    """The open objections of each tenant a runtime keeps (a part of the runtime: ``rt.parts``), so that a
    dataset read flags its records without a query: kept under the objections' stamp (bumped in the same
    transaction as every objection filed or moved, by any process), which each read's audit append reads in
    its transaction; a read whose append finds another stamp reads them again. A tenant with more than
    ``objection_store._OPEN_AT_ONCE`` open is not kept (its reads ask by the page's ids)."""

    def __init__(self) -> None:
        self._stamp = -1
        self._kept: dict[str, Disputed | None] = {}  # None: too many to keep
        self._lock = threading.Lock()

    def of(self, rt: Runtime, tenant: str, stamp: int) -> Disputed | None:
        """The tenant's open objections as of ``stamp`` or later; None when it has too many to keep."""
        if stamp == self._stamp and tenant in self._kept:
            return self._kept[tenant]
        with rt.db.connect() as conn:  # the stamp first: what is read after it is at least as new
            now = read_stamp(conn, OBJECTIONS_STAMP_ID)
            held = store.open_objections(conn, tenant)
        found: Disputed | None = None if held is None else {}
        for record_id, item, oid in held or ():
            found.setdefault(record_id, {}).setdefault(item, []).append(oid)  # type: ignore[union-attr]
        with self._lock:
            if now != self._stamp:
                self._kept.clear()
                self._stamp = now
            self._kept[tenant] = found
        return found

    def forget(self) -> None:
        """Read them again at the next read (a benchmark's cold read)."""
        with self._lock:
            self._kept.clear()
            self._stamp = -1


def flag_records(
    rt: Runtime, tenant: str, records: list[dict[str, Any]], *, stamp: int | None = None
) -> list[dict[str, Any]]:
    """Mark, in place, each record of a dataset read (keyValues) that has an open objection on an item it
    shows: ``disputed`` lists those items. ``stamp``: the objections' stamp the read's audit append read (the
    open objections this runtime keeps are used when they are as new); None: read them now."""
    if not records:
        return records
    kept = rt.parts.get(OpenObjections, OpenObjections).of(rt, tenant, stamp) if stamp is not None else None
    found = kept if kept is not None else disputed_items(rt, tenant, list(map(str, map(itemgetter("id"), records))))
    if not found:  # the common case: no open objection on the page
        return records
    for record in records:
        items = found.get(str(record["id"]))
        shown = sorted(i for i in items or () if i in record)
        if shown:
            record[DISPUTED] = shown
    return records


def flag_rows(rt: Runtime, tenant: str, rows: list[hub.EntityRow]) -> list[hub.EntityRow]:
    """The rows of an NGSI-LD read with each disputed attribute marked: every instance carries the
    sub-property ``disputed`` whose value is the list of the open objections' ids. Rows are copied, never
    changed in place."""
    found = disputed_items(rt, tenant, [r.id for r in rows])
    if not found:
        return rows
    tm = hub.core_term_map()
    flag = tm.expand(DISPUTED)
    out = []
    for row in rows:
        items = found.get(row.id)
        if not items:
            out.append(row)
            continue
        attrs = dict(row.attrs)
        for iri, instances in row.attrs.items():
            ids = items.get(tm.compact(iri))
            if ids:
                attrs[iri] = [{**inst, flag: {"type": "Property", "value": ids}} for inst in instances]
        out.append(dataclasses.replace(row, attrs=attrs))
    return out


# --- what a department other than the source sees of an objection ------------------------------------------

_VALUES = ("value", "corrected", "before", "after")  # the record's values an event or a notice may carry


class _Kinds:
    """The kind of value of (entry, item), each entry read once per answer (a page names few entries)."""

    def __init__(self, rt: Runtime, tenant: str) -> None:
        self.rt, self.tenant = rt, tenant
        self.entries: dict[str, CatalogueEntry] = {}

    def mask(self, code: str, item: str) -> Any:
        if code not in self.entries:
            self.entries[code] = get_entry(self.rt, self.tenant, code)
        entry = self.entries[code]
        kind = next((i.kind for i in entry.items if i.name == item), "text")
        return lambda v: mask_value(kind, v)


def as_seen_by(
    rt: Runtime, tenant: str, records: list[ObjectionRecord], department: str | None
) -> list[ObjectionRecord]:
    """Objections as ``department`` may see them: the source and the city (None) see the record's values as
    held; the objector sees them masked by the item's kind, as its grant may not show them in full (the
    value it proposed is its own)."""
    kinds = _Kinds(rt, tenant)
    out = []
    for record in records:
        if department is None or department == record.source:
            out.append(record)
            continue
        mask = kinds.mask(record.code, record.item)
        history = tuple(
            dataclasses.replace(ev, changes={k: mask(v) if k in _VALUES else v for k, v in ev.changes.items()})
            for ev in record.history
        )
        out.append(dataclasses.replace(record, value=mask(record.value), corrected=mask(record.corrected),
                                       history=history))  # fmt: skip
    return out


def notices_as_seen(rt: Runtime, tenant: str, notices: list[Notice], city: bool) -> list[Notice]:
    """Correction notices as their department sees them: the values masked by the item's kind (a department
    re-reads the record to see the new value as its grant shows it); the city sees them as held."""
    if city:
        return notices
    kinds = _Kinds(rt, tenant)
    out = []
    for n in notices:
        mask = kinds.mask(n.code, n.item)
        out.append(dataclasses.replace(n, before=mask(n.before), after=mask(n.after)))
    return out


# --- error reports of the open data portal (纠错) -----------------------------------------------------------

PUBLIC_OBJECTOR = "public"  # who files a visitor's error report: the portal's principal, for no department


def submit_public_objection(
    rt: Runtime,
    tenant: str,
    code: str,
    record_id: str,
    item: str,
    evidence: str,
    *,
    opened: Sequence[str],
    proposed: Any = None,
    now: datetime | None = None,
) -> ObjectionRecord:
    """A visitor's error report on an open dataset's value, filed as an objection by :data:`PUBLIC_OBJECTOR`
    and routed to the item's one source to verify, as any objection. The public is no department: the value
    must be one of the items the portal ``opened`` and the record one the audit chain holds a public read of.
    One open report per value: ObjectionExists (409) names the open one. InvalidObjection (400), ValueNotRead
    (403) as :func:`submit_objection`."""
    now = _exact(now or _now())
    entry = get_entry(rt, tenant, code)
    data_item = _item(entry, item)
    if item not in opened:
        raise InvalidObjection(f"{item!r} is not an open item of entry {code}: report a value the portal shows",
                               field="item")  # fmt: skip
    if not evidence.strip():
        raise InvalidObjection("a report gives its evidence: say what is wrong and how you know", field="evidence")
    reads = reads_of_record(rt, tenant, code, record_id, principal=PUBLIC_OBJECTOR, limit=1)
    if not reads:
        raise ValueNotRead(f"record {record_id} of entry {code} was never shown by the open data portal: only a "
                           "value shown can be reported", code=code, recordId=record_id)  # fmt: skip
    source = item_source(rt, tenant, entry, data_item)
    return _file(rt, tenant, entry, record_id, item, source, PUBLIC_OBJECTOR, PUBLIC_OBJECTOR, None, reads[0].seq,
                 evidence, proposed, now,
                 lambda held: f"an error report on {item!r} of this record is open already ({held['id']}, "
                              f"{held['state']}): its source is verifying it")  # fmt: skip


# --- objections of the person or enterprise a record concerns ----------------------------------------------


def _holds_subject(rt: Runtime, tenant: str, entry: CatalogueEntry, record_id: str, key: str) -> bool:
    """Whether the record is the subject's: an item naming a person or an enterprise (an ID number, a credit
    code; a base registry's record key) holds ``key``."""
    from cityos.datahub.datasets import SUBJECT_KINDS
    from cityos.datahub.registry import REGISTRIES

    names = {i.name for i in entry.items if i.kind in SUBJECT_KINDS} | {r.key_attribute for r in REGISTRIES}
    row = hub.find_entity(rt, tenant, record_id)
    if row is None:
        return False
    values = hub.key_values(row.id, row.types, row.attrs, hub.core_term_map())
    wanted = key.strip().upper()
    return any(isinstance(values.get(n), str) and values[n].strip().upper() == wanted for n in names)


def submit_subject_objection(
    rt: Runtime,
    tenant: str,
    code: str,
    record_id: str,
    item: str,
    evidence: str,
    *,
    subject: str,
    objector: str,
    proposed: Any = None,
    now: datetime | None = None,
) -> ObjectionRecord:
    """The person or enterprise a record concerns objects to a value of it (issue 18 item 4: "the person or
    enterprise it concerns"): ``subject`` is its ID number or credit code, which the record must hold;
    ``objector`` the principal that files it for them (the one-stop portal's login), recorded as the objector.
    The objection goes to the item's one source to verify, as any objection; ``read_seq`` is 0 (a person's
    own record needs no read to be known to them). One open objection per value and objector: ObjectionExists
    (409). InvalidObjection (400) for an unknown entry item or record, empty evidence; NotOwnRecord (403) when
    the record is not the subject's."""
    now = _exact(now or _now())
    entry = get_entry(rt, tenant, code)
    data_item = _item(entry, item)
    if not evidence.strip():
        raise InvalidObjection("an objection gives its evidence: say what is wrong and how you know", field="evidence")
    _current(rt, tenant, entry, record_id, item)  # the entry's record, served from the data hub
    if not _holds_subject(rt, tenant, entry, record_id, subject):
        raise NotOwnRecord(f"record {record_id} of entry {code} is not yours: you may object only to values of your "
                           "own record", code=code, recordId=record_id)  # fmt: skip
    source = item_source(rt, tenant, entry, data_item)
    return _file(rt, tenant, entry, record_id, item, source, objector, objector, None, 0, evidence, proposed, now,
                 lambda held: f"you have an open objection on {item!r} already: {held['id']} ({held['state']}); "
                              "its source is verifying it")  # fmt: skip
