"""SQL of the grants: insert a grant, rewrite its row expecting the version read, append its history, and the
queries that read them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, and_, func, insert, or_, select, update
from sqlalchemy.sql.elements import ColumnElement

from cityos.datahub.decisions import bump_stamp
from cityos.datahub.tables import grant_history, grants

Row = dict[str, Any]  # a row as the database gives it, or the columns to write


def insert_grant(conn: Connection, row: Row) -> None:
    conn.execute(insert(grants), [row])
    bump_stamp(conn)


def update_grant(conn: Connection, tenant: str, grant_id: str, expected_version: int, changes: Row) -> bool:
    """Rewrite a grant if nobody moved it since ``expected_version`` was read; False if somebody did."""
    q = (
        update(grants)
        .where(grants.c.tenant == tenant, grants.c.id == grant_id, grants.c.version == expected_version)
        .values(**changes)
    )
    changed = bool(conn.execute(q).rowcount)
    if changed:
        bump_stamp(conn)
    return changed


def append_history(conn: Connection, rows: Sequence[Row]) -> None:
    if rows:
        conn.execute(insert(grant_history), list(rows))


def get_grant(conn: Connection, tenant: str, grant_id: str) -> Row | None:
    row = conn.execute(select(grants).where(grants.c.tenant == tenant, grants.c.id == grant_id)).mappings().first()
    return dict(row) if row else None


def histories(conn: Connection, tenant: str, grant_ids: Sequence[str]) -> dict[str, list[Row]]:
    """The history of each grant, in order, in one query."""
    found: dict[str, list[Row]] = {g: [] for g in grant_ids}
    if not grant_ids:
        return found
    q = (
        select(grant_history)
        .where(grant_history.c.tenant == tenant, grant_history.c.grant_id.in_(list(grant_ids)))
        .order_by(grant_history.c.grant_id, grant_history.c.seq)
    )
    for r in conn.execute(q).mappings():
        found[r["grant_id"]].append(dict(r))
    return found


def _in_state(state: str, now_ms: int) -> ColumnElement[bool]:
    """Grants in ``state`` at ``now_ms``: an approved grant is expired from its end on, stored or not."""
    if state == "approved":
        return and_(grants.c.state == "approved", grants.c.ends_at_ms > now_ms)
    if state == "expired":
        return or_(grants.c.state == "expired", and_(grants.c.state == "approved", grants.c.ends_at_ms <= now_ms))
    return grants.c.state == state


def _matching(tenant: str, filters: Row, now_ms: int) -> list[ColumnElement[bool]]:
    """The conditions of ``filters``: department, provider, code, party (the department that asked or
    provides), state at ``now_ms``."""
    cond = [grants.c.tenant == tenant]
    for key in ("department", "provider", "code"):
        if filters.get(key) is not None:
            cond.append(grants.c[key] == filters[key])
    if filters.get("party") is not None:
        cond.append(or_(grants.c.department == filters["party"], grants.c.provider == filters["party"]))
    if filters.get("state") is not None:
        cond.append(_in_state(filters["state"], now_ms))
    return cond


def search(conn: Connection, tenant: str, filters: Row, now_ms: int, limit: int, offset: int) -> list[Row]:
    """Grants matching ``filters`` (see ``_matching``), newest first."""
    cond = _matching(tenant, filters, now_ms)
    q = select(grants).where(*cond).order_by(grants.c.created_at_ms.desc(), grants.c.id).limit(limit).offset(offset)
    return [dict(r) for r in conn.execute(q).mappings()]


def count(conn: Connection, tenant: str, filters: Row, now_ms: int) -> int:
    """How many grants match ``filters``."""
    q = select(func.count()).select_from(grants).where(*_matching(tenant, filters, now_ms))
    return int(conn.execute(q).scalar_one())


def of_reader(conn: Connection, tenant: str, department: str, code: str) -> list[Row]:
    """A department's grants for one entry, every state."""
    q = select(grants).where(grants.c.tenant == tenant, grants.c.department == department, grants.c.code == code)
    return [dict(r) for r in conn.execute(q.order_by(grants.c.created_at_ms, grants.c.id)).mappings()]
