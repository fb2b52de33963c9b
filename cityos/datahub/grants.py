"""Grants (授权共享) over the runtime: request one, move it through the workflow, read them.

The workflow table (:mod:`cityos.datahub.workflow`) judges every move; what is left here is the database:
a grant's row rewritten expecting the version that was read, its history appended in the same transaction,
and a bus event (``datahub.grant.<action>``) published after the commit. The catalogue entry is an argument:
the caller looks it up (``cityos.datahub.get_entry``). Reads give each grant its state at ``now``, so an
approved grant whose end has come reads as expired though no job ever wrote it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection

from cityos.bus import Event as BusEvent
from cityos.datahub import store
from cityos.datahub.errors import GrantMoveRefused, GrantNotFound, InvalidGrant
from cityos.datahub.levels import level_scale
from cityos.datahub.models import CatalogueEntry, Grant, GrantState, LevelScale
from cityos.datahub.store import Row
from cityos.datahub.workflow import (
    Actor,
    GrantAction,
    GrantEvent,
    Narrowing,
    action_of,
    instant,
    requested,
    state_at,
    state_of,
    transition,
)
from cityos.runtime import Runtime

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MAX_LIST = 1000


@dataclass(frozen=True)
class GrantRecord:
    """A grant as read now (its ``state`` is its state at the read's time), with who asked and its history."""

    grant: Grant
    provider: str
    requested_by: str
    created_at: datetime
    updated_at: datetime
    history: tuple[GrantEvent, ...] = ()


def _now() -> datetime:
    return datetime.now(UTC)


def exact(t: datetime) -> datetime:
    """A time as grants keep it: UTC, to the millisecond (finer is cut)."""
    t = instant(t).astimezone(UTC)
    return t.replace(microsecond=t.microsecond // 1000 * 1000)


def _ms(t: datetime) -> int:
    return (t - EPOCH) // timedelta(milliseconds=1)


def _iso(t: datetime) -> str:
    return exact(t).isoformat(timespec="milliseconds")


def _from_ms(value: int) -> datetime:
    return EPOCH + timedelta(milliseconds=value)


# --- rows <-> model ----------------------------------------------------------------------------------------


def _grant(row: Row) -> Grant:
    items = row["items"]
    return Grant(
        id=row["id"],
        code=row["code"],
        department=row["department"],
        scenario=row["scenario"],
        purpose=row["purpose"],
        legal_basis=row["legal_basis"],
        items=tuple(items) if items is not None else None,
        starts_at=row["starts_at"],
        ends_at=row["ends_at"],
        state=GrantState(row["state"]),
        lifts=row["lifts"],
    )


def _event(row: Row) -> GrantEvent:
    return GrantEvent(
        action=GrantAction(row["action"]),
        by=row["by"],
        by_department=row["by_department"],
        at=datetime.fromisoformat(row["at"]),
        from_state=GrantState(row["from_state"]) if row["from_state"] else None,
        to_state=GrantState(row["to_state"]),
        reason=row["reason"],
        changes=row["changes"] or {},
    )


def _record(row: Row, history: Iterable[Row], now: datetime) -> GrantRecord:
    grant = _grant(row)
    return GrantRecord(
        grant=replace(grant, state=state_at(grant, now)),
        provider=row["provider"],
        requested_by=row["requested_by"],
        created_at=_from_ms(row["created_at_ms"]),
        updated_at=_from_ms(row["updated_at_ms"]),
        history=tuple(_event(r) for r in history),
    )


def _grant_columns(grant: Grant) -> Row:
    """The columns the workflow decides."""
    return {
        "items": list(grant.items) if grant.items is not None else None,
        "starts_at": grant.starts_at,
        "ends_at": grant.ends_at,
        "starts_at_ms": _ms(instant(grant.starts_at)),
        "ends_at_ms": _ms(instant(grant.ends_at)),
        "lifts": grant.lifts,
        "state": str(grant.state),
    }


def _history_row(tenant: str, grant_id: str, seq: int, ev: GrantEvent) -> Row:
    return {
        "tenant": tenant,
        "grant_id": grant_id,
        "seq": seq,
        "at": _iso(ev.at),
        "action": str(ev.action),
        "by": ev.by,
        "by_department": ev.by_department,
        "reason": ev.reason,
        "from_state": str(ev.from_state) if ev.from_state else None,
        "to_state": str(ev.to_state),
        "changes": ev.changes,
    }


def _publish(rt: Runtime, tenant: str, record: GrantRecord, ev: GrantEvent) -> None:
    g = record.grant
    data = {"grantId": g.id, "code": g.code, "department": g.department, "provider": record.provider,
            "scenario": g.scenario, "state": str(g.state), "action": str(ev.action), "by": ev.by}  # fmt: skip
    rt.bus.publish([BusEvent(f"datahub.grant.{ev.action}", g.id, data, tenant)])


def _load(conn: Connection, tenant: str, grant_id: str) -> Row:
    row = store.get_grant(conn, tenant, grant_id)
    if row is None:
        raise GrantNotFound(f"there is no grant {grant_id!r}: list a department's grants to find it")
    return row


# --- the use cases -----------------------------------------------------------------------------------------


def request_grant(
    rt: Runtime,
    tenant: str,
    entry: CatalogueEntry,
    department: str,
    scenario: str,
    purpose: str,
    legal_basis: str,
    items: Sequence[str] | None,
    starts_at: datetime | None,
    ends_at: datetime,
    lifts: str | None,
    by: str,
    *,
    now: datetime | None = None,
    scale: LevelScale | None = None,
) -> GrantRecord:
    """``department`` asks for ``entry`` (``items``, None: all of it) for one application scenario, purpose,
    legal basis and period (``starts_at`` None: now), showing unmasked up to ``lifts`` (None: the default).

    InvalidGrant (400) names unknown items, a period that ends before it starts, has passed or lasts more
    than three years, a level not on the scale, an entry that is not shared or is the department's own."""
    now = exact(now or _now())
    draft = Grant(
        id=uuid.uuid4().hex[:16],
        code=entry.code,
        department=department,
        scenario=scenario.strip(),
        purpose=purpose.strip(),
        legal_basis=legal_basis.strip(),
        items=tuple(items) if items is not None else None,
        starts_at=_iso(starts_at or now),
        ends_at=_iso(ends_at),
        state=GrantState.REQUESTED,
        lifts=lifts,
    )
    grant, ev = requested(draft, entry, Actor(by, department), now, scale or level_scale(rt))
    row = {"tenant": tenant, "id": grant.id, "code": grant.code, "provider": entry.provider,
           "department": department, "scenario": grant.scenario, "purpose": grant.purpose,
           "legal_basis": grant.legal_basis, **_grant_columns(grant), "requested_by": by,
           "created_at_ms": _ms(now), "updated_at_ms": _ms(now), "version": 1}  # fmt: skip
    history = [_history_row(tenant, grant.id, 1, ev)]
    with rt.db.write() as conn:
        store.insert_grant(conn, row)
        store.append_history(conn, history)
    record = _record(row, history, now)
    _publish(rt, tenant, record, ev)
    return record


def move_grant(
    rt: Runtime,
    tenant: str,
    entry: CatalogueEntry,
    grant_id: str,
    action: GrantAction | str,
    by: str,
    by_department: str | None,
    reason: str | None = None,
    *,
    narrowed: Narrowing | None = None,
    city: bool = False,
    now: datetime | None = None,
    scale: LevelScale | None = None,
) -> GrantRecord:
    """Move a grant of ``entry`` through the workflow: approve, narrow (with ``narrowed``), refuse or revoke
    (both with a ``reason``). ``by_department``: the department the person acts for; ``city``: they act as an
    operator or an administrator. GrantMoveRefused (409) names the state and the moves allowed from it,
    GrantMoveForbidden (403) who may take the move, InvalidGrant (400) what the move lacks."""
    now = exact(now or _now())
    action = action_of(action)
    if action == GrantAction.REQUEST:
        raise InvalidGrant("a grant is requested once, when it is made: request a new grant instead")
    with rt.db.write() as conn:
        row = _load(conn, tenant, grant_id)
        if row["code"] != entry.code:
            raise InvalidGrant(f"grant {grant_id} is for entry {row['code']}, not {entry.code}")
        grant, ev = transition(_grant(row), entry, action, Actor(by, by_department, city), now,
                               scale or level_scale(rt), reason=reason, narrowing=narrowed)  # fmt: skip
        changes = {**_grant_columns(grant), "updated_at_ms": _ms(now), "version": row["version"] + 1}
        if not store.update_grant(conn, tenant, grant_id, row["version"], changes):
            raise GrantMoveRefused(f"grant {grant_id} was moved by someone else meanwhile: read it again and retry")
        store.append_history(conn, [_history_row(tenant, grant_id, row["version"] + 1, ev)])
        history = store.histories(conn, tenant, [grant_id])[grant_id]
    record = _record({**row, **changes}, history, now)
    _publish(rt, tenant, record, ev)
    return record


def get_grant(rt: Runtime, tenant: str, grant_id: str, *, now: datetime | None = None) -> GrantRecord:
    """One grant with its history, its state as at ``now``; GrantNotFound (404) if there is none."""
    with rt.db.connect() as conn:
        row = _load(conn, tenant, grant_id)
        history = store.histories(conn, tenant, [grant_id])[grant_id]
    return _record(row, history, now or _now())


def _filters(department: str | None, provider: str | None, party: str | None, code: str | None,
             state: GrantState | str | None) -> Row:  # fmt: skip
    return {"department": department, "provider": provider, "party": party, "code": code,
            "state": str(state_of(state)) if state is not None else None}  # fmt: skip


def list_grants(
    rt: Runtime,
    tenant: str,
    *,
    department: str | None = None,
    provider: str | None = None,
    party: str | None = None,
    code: str | None = None,
    state: GrantState | str | None = None,
    now: datetime | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[GrantRecord]:
    """Grants, newest first, with their histories: those ``department`` asked for (as requester), those of
    ``provider``'s entries (as provider), those ``party`` asked for or provides (either), of one entry
    (``code``), in ``state`` as at ``now`` (an approved grant past its end is listed as expired)."""
    now = now or _now()
    filters = _filters(department, provider, party, code, state)
    with rt.db.connect() as conn:
        rows = store.search(conn, tenant, filters, _ms(now), min(max(limit, 0), MAX_LIST), max(offset, 0))
        histories = store.histories(conn, tenant, [r["id"] for r in rows])
    return [_record(r, histories[r["id"]], now) for r in rows]


def count_grants(
    rt: Runtime,
    tenant: str,
    *,
    department: str | None = None,
    provider: str | None = None,
    party: str | None = None,
    code: str | None = None,
    state: GrantState | str | None = None,
    now: datetime | None = None,
) -> int:
    """How many grants :func:`list_grants` finds with the same filters, over every page."""
    filters = _filters(department, provider, party, code, state)
    with rt.db.connect() as conn:
        return store.count(conn, tenant, filters, _ms(now or _now()))


def grants_for(rt: Runtime, tenant: str, department: str, code: str, now: datetime | None = None) -> list[Grant]:
    """A department's grants for one entry, each in its state as at ``now``: what ``decide`` needs (it uses
    those in force and names the others when it refuses)."""
    now = now or _now()
    with rt.db.connect() as conn:
        rows = store.of_reader(conn, tenant, department, code)
    return [replace(g, state=state_at(g, now)) for g in map(_grant, rows)]
