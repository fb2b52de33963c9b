"""SQL of the releases: append one, read an entry's, newest first."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, func, insert, select

from cityos.opendata.release_tables import releases

Row = dict[str, Any]


def next_version(conn: Connection, tenant: str, code: str) -> int:
    r = releases.c
    q = select(func.max(r.version)).where(r.tenant == tenant, r.code == code)
    return int(conn.execute(q).scalar_one() or 0) + 1


def insert_release(conn: Connection, row: Row) -> None:
    conn.execute(insert(releases), [row])


def entry_releases(conn: Connection, tenant: str, code: str, passed: bool | None, limit: int, offset: int) -> list[Row]:
    r = releases.c
    q = select(releases).where(r.tenant == tenant, r.code == code)
    if passed is not None:
        q = q.where(r.passed == passed)
    q = q.order_by(r.version.desc()).limit(limit).offset(offset)
    return [dict(row) for row in conn.execute(q).mappings()]


def count_releases(conn: Connection, tenant: str, code: str, passed: bool | None) -> int:
    r = releases.c
    q = select(func.count()).select_from(releases).where(r.tenant == tenant, r.code == code)
    if passed is not None:
        q = q.where(r.passed == passed)
    return int(conn.execute(q).scalar_one())
