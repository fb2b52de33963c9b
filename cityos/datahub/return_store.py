"""SQL of the district return: grants, runs, and the records each grant returned."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update

from cityos.datahub.return_tables import return_grants, return_runs, returned

Row = dict[str, Any]
CHUNK = 500  # ids per IN list: bounded on both databases


def insert_grant(conn: Connection, row: Row) -> None:
    conn.execute(insert(return_grants), [row])


def get_grant(conn: Connection, tenant: str, grant_id: str) -> Row | None:
    g = return_grants.c
    row = conn.execute(select(return_grants).where(g.tenant == tenant, g.id == grant_id)).mappings().first()
    return dict(row) if row else None


def update_grant(conn: Connection, tenant: str, grant_id: str, values: Row) -> None:
    g = return_grants.c
    conn.execute(update(return_grants).where(g.tenant == tenant, g.id == grant_id).values(**values))


def _grant_filter(tenant: str, district_tenant: str | None, state: str | None) -> list[Any]:
    g = return_grants.c
    where: list[Any] = [g.tenant == tenant]
    if district_tenant is not None:
        where.append(g.district_tenant == district_tenant)
    if state is not None:
        where.append(g.state == state)
    return where


def grants(
    conn: Connection, tenant: str, district_tenant: str | None, state: str | None, limit: int, offset: int
) -> list[Row]:
    g = return_grants.c
    q = select(return_grants).where(*_grant_filter(tenant, district_tenant, state))
    rows = conn.execute(q.order_by(g.made_at_ms.desc(), g.id).limit(limit).offset(offset)).mappings()
    return [dict(r) for r in rows]


def count_grants(conn: Connection, tenant: str, district_tenant: str | None, state: str | None) -> int:
    q = select(func.count()).select_from(return_grants).where(*_grant_filter(tenant, district_tenant, state))
    return int(conn.execute(q).scalar_one())


def insert_run(conn: Connection, row: Row) -> None:
    conn.execute(insert(return_runs), [row])


def get_run(conn: Connection, tenant: str, run_id: str) -> Row | None:
    r = return_runs.c
    row = conn.execute(select(return_runs).where(r.tenant == tenant, r.id == run_id)).mappings().first()
    return dict(row) if row else None


def runs(conn: Connection, tenant: str, grant_id: str, limit: int, offset: int) -> list[Row]:
    r = return_runs.c
    q = select(return_runs).where(r.tenant == tenant, r.grant_id == grant_id)
    return [dict(x) for x in conn.execute(q.order_by(r.at_ms.desc(), r.id).limit(limit).offset(offset)).mappings()]


def count_runs(conn: Connection, tenant: str, grant_id: str) -> int:
    r = return_runs.c
    q = select(func.count()).select_from(return_runs).where(r.tenant == tenant, r.grant_id == grant_id)
    return int(conn.execute(q).scalar_one())


def held(conn: Connection, tenant: str, grant_id: str, ids: Sequence[str]) -> dict[str, str]:
    """The records among ``ids`` the grant returned: id -> the city's modifiedAt when it was returned."""
    r = returned.c
    out: dict[str, str] = {}
    for start in range(0, len(ids), CHUNK):
        chunk = list(ids[start : start + CHUNK])
        q = select(r.entity_id, r.modified_at).where(r.tenant == tenant, r.grant_id == grant_id, r.entity_id.in_(chunk))
        out.update({i: m for i, m in conn.execute(q)})
    return out


def forget(conn: Connection, tenant: str, grant_id: str, ids: Sequence[str]) -> None:
    r = returned.c
    for start in range(0, len(ids), CHUNK):
        chunk = list(ids[start : start + CHUNK])
        conn.execute(delete(returned).where(r.tenant == tenant, r.grant_id == grant_id, r.entity_id.in_(chunk)))


def remember(
    conn: Connection, tenant: str, grant_id: str, rows: Sequence[tuple[str, str, str]], gone: Sequence[str] = ()
) -> None:
    """Record (entity id, code, modifiedAt) as returned, replacing what was recorded of them; forget ``gone``."""
    forget(conn, tenant, grant_id, [*(i for i, _, _ in rows), *gone])
    if rows:
        values = [{"tenant": tenant, "grant_id": grant_id, "entity_id": i, "code": c, "modified_at": m}
                  for i, c, m in rows]  # fmt: skip
        conn.execute(insert(returned), values)


def all_returned(conn: Connection, tenant: str, grant_id: str, chunk: int = 5000) -> Iterator[list[str]]:
    """Every record id the grant returned, in chunks (keyset by id)."""
    r = returned.c
    last: str | None = None
    while True:
        q = select(r.entity_id).where(r.tenant == tenant, r.grant_id == grant_id)
        if last is not None:
            q = q.where(r.entity_id > last)
        ids = [i for (i,) in conn.execute(q.order_by(r.entity_id).limit(chunk))]
        if ids:
            yield ids
        if len(ids) < chunk:
            return
        last = ids[-1]
