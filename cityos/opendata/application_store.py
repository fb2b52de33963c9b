"""SQL of the applications: insert one, rewrite it expecting the version read, read them and their history."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from cityos.opendata.application_tables import application_history, applications

Row = dict[str, Any]


def insert_application(conn: Connection, row: Row, history: Row) -> None:
    conn.execute(insert(applications), [row])
    conn.execute(insert(application_history), [history])


def get(conn: Connection, tenant: str, app_id: str) -> Row | None:
    a = applications.c
    found = conn.execute(select(applications).where(a.tenant == tenant, a.id == app_id)).mappings().first()
    return dict(found) if found else None


def by_key(conn: Connection, key_hash: str) -> Row | None:
    found = conn.execute(select(applications).where(applications.c.key_hash == key_hash)).mappings().first()
    return dict(found) if found else None


def move(conn: Connection, tenant: str, app_id: str, version: int, changes: Row, history: Row) -> bool:
    a = applications.c
    q = update(applications).where(a.tenant == tenant, a.id == app_id, a.version == version).values(**changes)
    if conn.execute(q).rowcount != 1:
        return False
    conn.execute(insert(application_history), [history])
    return True


def _where(tenant: str, provider: str | None, state: str | None, name: str | None) -> list[Any]:
    a = applications.c
    where = [a.tenant == tenant]
    if provider is not None:
        where.append(a.provider == provider)
    if state is not None:
        where.append(a.state == state)
    if name is not None:
        where.append(a.name == name)
    return where


def search(conn: Connection, tenant: str, provider: str | None, state: str | None, name: str | None, limit: int,
           offset: int) -> list[Row]:  # fmt: skip
    q = select(applications).where(*_where(tenant, provider, state, name))
    q = q.order_by(applications.c.created_at_ms.desc(), applications.c.id).limit(limit).offset(offset)
    return [dict(r) for r in conn.execute(q).mappings()]


def count(conn: Connection, tenant: str, provider: str | None, state: str | None, name: str | None) -> int:
    q = select(func.count()).select_from(applications).where(*_where(tenant, provider, state, name))
    return int(conn.execute(q).scalar_one())


def histories(conn: Connection, tenant: str, ids: list[str]) -> dict[str, list[Row]]:
    h = application_history.c
    out: dict[str, list[Row]] = {i: [] for i in ids}
    if ids:
        q = select(application_history).where(h.tenant == tenant, h.application_id.in_(ids)).order_by(h.seq)
        for r in conn.execute(q).mappings():
            out[r["application_id"]].append(dict(r))
    return out
