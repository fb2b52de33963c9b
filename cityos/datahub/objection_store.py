"""SQL of the objections (数据异议纠错): insert one, rewrite its row expecting the version read, append its
history, store the notices of a correction, and the queries that read them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, and_, case, func, insert, select, update
from sqlalchemy.sql.elements import ColumnElement

from cityos.datahub.decisions import OBJECTIONS_STAMP_ID, bump_stamp
from cityos.datahub.objection_tables import objection_history, objection_notices, objections

Row = dict[str, Any]
OPEN = ("submitted", "verifying")


def insert_objection(conn: Connection, row: Row) -> None:
    conn.execute(insert(objections), [row])
    bump_stamp(conn, OBJECTIONS_STAMP_ID)  # the open objections processes keep to flag reads are out of date


def update_objection(conn: Connection, tenant: str, objection_id: str, expected_version: int, changes: Row) -> bool:
    """Rewrite an objection if nobody moved it since ``expected_version`` was read; False if somebody did."""
    q = (
        update(objections)
        .where(objections.c.tenant == tenant, objections.c.id == objection_id,
               objections.c.version == expected_version)
        .values(**changes)
    )  # fmt: skip
    if not conn.execute(q).rowcount:
        return False
    bump_stamp(conn, OBJECTIONS_STAMP_ID)
    return True


def append_history(conn: Connection, rows: Sequence[Row]) -> None:
    if rows:
        conn.execute(insert(objection_history), list(rows))


def get_objection(conn: Connection, tenant: str, objection_id: str) -> Row | None:
    q = select(objections).where(objections.c.tenant == tenant, objections.c.id == objection_id)
    row = conn.execute(q).mappings().first()
    return dict(row) if row else None


def open_by(conn: Connection, tenant: str, record_id: str, item: str, objector: str) -> Row | None:
    """The objector's open objection on this item of this record, if any."""
    q = select(objections).where(
        objections.c.tenant == tenant, objections.c.record_id == record_id, objections.c.state.in_(OPEN),
        objections.c.item == item, objections.c.objector == objector,
    )  # fmt: skip
    row = conn.execute(q.limit(1)).mappings().first()
    return dict(row) if row else None


def histories(conn: Connection, tenant: str, ids: Sequence[str]) -> dict[str, list[Row]]:
    """The history of each objection, in order, in one query."""
    found: dict[str, list[Row]] = {i: [] for i in ids}
    if not ids:
        return found
    q = (
        select(objection_history)
        .where(objection_history.c.tenant == tenant, objection_history.c.objection_id.in_(list(ids)))
        .order_by(objection_history.c.objection_id, objection_history.c.seq)
    )
    for r in conn.execute(q).mappings():
        found[r["objection_id"]].append(dict(r))
    return found


def _matching(tenant: str, filters: Row, now_ms: int) -> list[ColumnElement[bool]]:
    """The conditions of ``filters``: source, objector, party (either), code, record_id, state, overdue."""
    cond: list[ColumnElement[bool]] = [objections.c.tenant == tenant]
    for key in ("source", "objector", "code", "record_id", "state"):
        if filters.get(key) is not None:
            cond.append(objections.c[key] == filters[key])
    if filters.get("party") is not None:
        cond.append((objections.c.source == filters["party"]) | (objections.c.objector == filters["party"]))
    if filters.get("overdue") is not None:
        late = and_(objections.c.state.in_(OPEN), objections.c.due_at_ms <= now_ms)
        cond.append(late if filters["overdue"] else ~late)
    return cond


def search(conn: Connection, tenant: str, filters: Row, now_ms: int, limit: int, offset: int) -> list[Row]:
    """Objections matching ``filters``: the overdue first, then the open by their due time, then the closed,
    newest first."""
    is_open = objections.c.state.in_(OPEN)
    rank = case((and_(is_open, objections.c.due_at_ms <= now_ms), 0), (is_open, 1), else_=2)
    q = (
        select(objections)
        .where(*_matching(tenant, filters, now_ms))
        .order_by(rank, case((is_open, objections.c.due_at_ms), else_=-objections.c.updated_at_ms), objections.c.id)
        .limit(limit)
        .offset(offset)
    )
    return [dict(r) for r in conn.execute(q).mappings()]


def count(conn: Connection, tenant: str, filters: Row, now_ms: int) -> int:
    q = select(func.count()).select_from(objections).where(*_matching(tenant, filters, now_ms))
    return int(conn.execute(q).scalar_one())


_OPEN_AT_ONCE = 1_000  # open objections of a tenant read whole, then matched to a page in memory


def disputed(conn: Connection, tenant: str, record_ids: Sequence[str]) -> list[tuple[str, str, str]]:
    """(record id, item, objection id) of every open objection on these records: one query for a page. Open
    objections are few (each is settled within days), so the tenant's are read whole and matched to the page
    in memory (a page of 1,000 ids as bound parameters costs more to compile than the read); only when a tenant
    has more than _OPEN_AT_ONCE open does the query name the page's ids."""
    if not record_ids:
        return []
    cols = (objections.c.record_id, objections.c.item, objections.c.id)
    open_ = (objections.c.tenant == tenant, objections.c.state.in_(OPEN))
    order = objections.c.created_at_ms
    found = conn.execute(select(*cols).where(*open_).order_by(order).limit(_OPEN_AT_ONCE + 1)).all()
    if len(found) <= _OPEN_AT_ONCE:
        wanted = set(record_ids)
        return [(r.record_id, r.item, r.id) for r in found if r.record_id in wanted]
    q = select(*cols).where(*open_, objections.c.record_id.in_(list(record_ids)))
    return [(r.record_id, r.item, r.id) for r in conn.execute(q.order_by(order))]


def open_objections(conn: Connection, tenant: str) -> list[tuple[str, str, str]] | None:
    """(record id, item, objection id) of every open objection of ``tenant``; None when it has more than
    _OPEN_AT_ONCE (too many to keep in memory: ask by the page's ids instead)."""
    cols = (objections.c.record_id, objections.c.item, objections.c.id)
    q = select(*cols).where(objections.c.tenant == tenant, objections.c.state.in_(OPEN))
    found = conn.execute(q.order_by(objections.c.created_at_ms).limit(_OPEN_AT_ONCE + 1)).all()
    return [(r.record_id, r.item, r.id) for r in found] if len(found) <= _OPEN_AT_ONCE else None


def insert_notices(conn: Connection, rows: Sequence[Row]) -> None:
    if rows:
        conn.execute(insert(objection_notices), list(rows))


def notices(conn: Connection, tenant: str, department: str | None, limit: int, offset: int) -> list[Row]:
    """The notices of corrections to ``department`` (None: every department's), newest first."""
    q = select(objection_notices).where(objection_notices.c.tenant == tenant)
    if department is not None:
        q = q.where(objection_notices.c.department == department)
    q = q.order_by(objection_notices.c.at_ms.desc(), objection_notices.c.objection_id).limit(limit).offset(offset)
    return [dict(r) for r in conn.execute(q).mappings()]


def count_notices(conn: Connection, tenant: str, department: str | None) -> int:
    q = select(func.count()).select_from(objection_notices).where(objection_notices.c.tenant == tenant)
    if department is not None:
        q = q.where(objection_notices.c.department == department)
    return int(conn.execute(q).scalar_one())


def notified(conn: Connection, tenant: str, objection_id: str) -> list[str]:
    """The departments told of an objection's correction."""
    q = select(objection_notices.c.department).where(
        objection_notices.c.tenant == tenant, objection_notices.c.objection_id == objection_id
    )
    return sorted(r.department for r in conn.execute(q))
