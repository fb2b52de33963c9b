"""SQL of the feed runs: write a run with its conflicts and rejections, and the queries that read them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from cityos.datahub.feed_tables import feed_conflicts, feed_rejections, feed_runs

Row = dict[str, Any]
CHUNK = 10_000  # rows per statement: bounded on both databases


def insert_run(conn: Connection, run: Row, conflicts: Sequence[Row], rejections: Sequence[Row]) -> None:
    conn.execute(insert(feed_runs), [run])
    for table, rows in ((feed_conflicts, conflicts), (feed_rejections, rejections)):
        for start in range(0, len(rows), CHUNK):
            conn.execute(insert(table), list(rows[start : start + CHUNK]))


def set_quality(conn: Connection, tenant: str, run_id: str, state: str, quality_run: str | None) -> None:
    r = feed_runs.c
    q = update(feed_runs).where(r.tenant == tenant, r.id == run_id).values(quality=state, quality_run=quality_run)
    conn.execute(q)


def get_run(conn: Connection, tenant: str, run_id: str) -> Row | None:
    q = select(feed_runs).where(feed_runs.c.tenant == tenant, feed_runs.c.id == run_id)
    row = conn.execute(q).mappings().first()
    return dict(row) if row else None


def runs(conn: Connection, tenant: str, department: str | None, code: str | None, limit: int, offset: int) -> list[Row]:
    r = feed_runs.c
    q = select(feed_runs).where(r.tenant == tenant)
    if department is not None:
        q = q.where(r.department == department)
    if code is not None:
        q = q.where(r.code == code)
    q = q.order_by(r.at_ms.desc(), r.id).limit(limit).offset(offset)
    return [dict(row) for row in conn.execute(q).mappings()]


def count_runs(conn: Connection, tenant: str, department: str | None, code: str | None) -> int:
    r = feed_runs.c
    q = select(func.count()).select_from(feed_runs).where(r.tenant == tenant)
    if department is not None:
        q = q.where(r.department == department)
    if code is not None:
        q = q.where(r.code == code)
    return int(conn.execute(q).scalar_one())


def conflicts(conn: Connection, tenant: str, run_id: str, limit: int, offset: int) -> list[Row]:
    c = feed_conflicts.c
    q = select(feed_conflicts).where(c.tenant == tenant, c.run_id == run_id).order_by(c.seq).limit(limit).offset(offset)
    return [dict(row) for row in conn.execute(q).mappings()]


def rejections(conn: Connection, tenant: str, run_id: str, limit: int, offset: int) -> list[Row]:
    j = feed_rejections.c
    q = select(feed_rejections).where(j.tenant == tenant, j.run_id == run_id).order_by(j.seq)
    return [dict(row) for row in conn.execute(q.limit(limit).offset(offset)).mappings()]
