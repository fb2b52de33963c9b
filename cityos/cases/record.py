"""A case's record, the one way cases are written: its history (``cases_events``, append-only) replayed
through the workflow table, and its projection row (``cases_cases``) rewritten from it in the same
transaction, expecting the version that was read (a concurrent change is a 409, :class:`CaseChanged`).
Events go on the bus only once committed: the callers publish after their transaction."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection

from cityos.bus import Event as BusEvent
from cityos.cases import store
from cityos.cases.errors import CaseChanged, CaseNotFound
from cityos.cases.settings import CasesSettings
from cityos.cases.store import Row
from cityos.cases.timelimits import iso, ms
from cityos.cases.workflow import CaseSnapshot, Event, State, apply, new_case, replay
from cityos.runtime import Runtime


def now() -> datetime:
    return datetime.now(UTC)


def no_case(case_id: str) -> CaseNotFound:
    return CaseNotFound(f"there is no case {case_id!r}: GET /cases lists cases")


def load(conn: Connection, tenant: str, case_id: str) -> Row:
    """The case's projection row; CaseNotFound if there is none."""
    row = store.get_case(conn, tenant, case_id)
    if row is None:
        raise no_case(case_id)
    return row


def replayed(s: CasesSettings, rows: list[Row]) -> CaseSnapshot:
    """The case its stored history makes, every event checked again."""
    events = [
        Event(action=r["action"], actor=r["actor"], role=r["role"], at=r["at"], reason=r["reason"], data=r["data"])
        for r in rows
    ]
    return replay(events, reopen_period=s.reopen_period)


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def _event_row(tenant: str, case_id: str, seq: int, ev: Event, before: State | None, after: State) -> Row:
    return {
        "tenant": tenant,
        "case_id": case_id,
        "seq": seq,
        "at": ev.at.isoformat(),
        "action": str(ev.action),
        "actor": ev.actor,
        "role": str(ev.role),
        "reason": ev.reason,
        "data": _jsonable(ev.data),
        "from_state": str(before) if before else None,
        "to_state": str(after),
    }


def _projection(snap: CaseSnapshot) -> Row:
    """The projection columns the workflow snapshot decides."""
    return {
        "state": str(snap.state),
        "department": snap.department,
        "cooperating": list(snap.cooperating),
        "result": snap.result,
        "rating": snap.rating,
        "merged_into": snap.merged_into,
        "escalation_level": snap.escalation_level,
        "returns": snap.returned_count,
        "reopens": snap.reopened_count,
        "closed_at_ms": ms(snap.closed_at) if snap.closed_at else None,
        "version": snap.version,
    }


def _fold(
    s: CasesSettings, tenant: str, case_id: str, snap: CaseSnapshot, events: list[Event]
) -> tuple[CaseSnapshot, list[Row]]:
    """Apply ``events`` after ``snap`` (the table refuses what it does not allow); the snapshot and event rows."""
    rows = []
    for ev in events:
        before, snap = snap.state, apply(snap, ev, reopen_period=s.reopen_period)
        rows.append(_event_row(tenant, case_id, snap.version, ev, before, snap.state))
    return snap, rows


def insert(conn: Connection, s: CasesSettings, tenant: str, row: Row, history: list[Event]) -> Row:
    """Store a new case: ``history`` starts with its report; ``row`` gets the projection it makes."""
    first = new_case(history[0])
    snap, rows = _fold(s, tenant, row["id"], first, history[1:])
    row.update(_projection(snap))
    store.insert_case(conn, row)
    store.append_events(conn, [_event_row(tenant, row["id"], 1, history[0], None, first.state), *rows])
    return row


def append(
    conn: Connection,
    s: CasesSettings,
    tenant: str,
    row: Row,
    events: list[Event],
    at: datetime,
    extra: Row | None = None,
    snap: CaseSnapshot | None = None,
) -> Row:
    """Append events to a case and rewrite its projection (with ``extra`` columns); returns the row after.
    ``snap``: the case as its history makes it, when the caller replayed it already in this transaction."""
    if snap is None:
        snap = replayed(s, store.history(conn, tenant, row["id"]))
    snap, rows = _fold(s, tenant, row["id"], snap, events)
    changes = {**_projection(snap), "updated_at_ms": ms(at), **(extra or {})}
    if not store.update_case(conn, tenant, row["id"], row["version"], changes):
        raise CaseChanged(f"case {row['id']} changed while this action was being taken: load it again and retry")
    store.append_events(conn, rows)
    return {**row, **changes}


def publish(rt: Runtime, tenant: str, subject: str, row: Row, **extra: Any) -> None:
    """Tell the bus about a committed change of a case."""
    data = {
        "caseId": row["id"],
        "state": row["state"],
        "category": row["category"],
        "department": row["department"],
        "dueAt": iso(row.get("due_at_ms")),
        "lon": row.get("lon"),
        "lat": row.get("lat"),
        **extra,
    }
    rt.bus.publish([BusEvent(subject, row["id"], data, tenant)])
