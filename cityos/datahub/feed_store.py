"""SQL of the feed runs: write a run with its conflicts and rejections, and the queries that read them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update

from cityos.datahub.feed_tables import feed_conflicts, feed_quality_jobs, feed_rejections, feed_runs

Row = dict[str, Any]
CHUNK = 10_000  # rows per statement: bounded on both databases


def insert_run(
    conn: Connection, run: Row, conflicts: Sequence[Row], rejections: Sequence[Row], quality_job: Row | None = None
) -> None:
    conn.execute(insert(feed_runs), [run])
    if quality_job is not None:  # with the run: a pending quality run always has its records
        conn.execute(insert(feed_quality_jobs), [quality_job])
    for table, rows in ((feed_conflicts, conflicts), (feed_rejections, rejections)):
        for start in range(0, len(rows), CHUNK):
            conn.execute(insert(table), list(rows[start : start + CHUNK]))


# --- the pending quality runs' claims ------------------------------------------------------------------------


def renew(conn: Connection, owner: str, lease_ms: int, tenant: str | None = None, run_id: str | None = None) -> int:
    """Hold ``owner``'s pending quality runs (the one of ``tenant`` and ``run_id``, if given) until ``lease_ms``:
    how many it still holds."""
    j = feed_quality_jobs.c
    q = update(feed_quality_jobs).where(j.owner == owner)
    if run_id is not None:
        q = q.where(j.tenant == tenant, j.run_id == run_id)
    return int(conn.execute(q.values(lease_ms=lease_ms)).rowcount)


def expired(conn: Connection, now_ms: int, limit: int) -> list[tuple[str, str]]:
    """The pending quality runs whose lease has run out (their maker is gone), oldest feed first."""
    j = feed_quality_jobs.c
    q = select(j.tenant, j.run_id).where(j.lease_ms < now_ms).order_by(j.at_ms, j.run_id).limit(limit)
    return [(row.tenant, row.run_id) for row in conn.execute(q)]


def claim(conn: Connection, tenant: str, run_id: str, owner: str, now_ms: int, lease_ms: int) -> int | None:
    """Take a pending quality run whose lease has run out for ``owner`` until ``lease_ms``: the processes that
    have taken it so far, this one included, or None when another process holds it (or it is made). A single
    conditional UPDATE: of two processes claiming at once, the second finds the lease renewed by the first."""
    j = feed_quality_jobs.c
    mine = (j.tenant == tenant, j.run_id == run_id)
    q = update(feed_quality_jobs).where(*mine, j.lease_ms < now_ms)
    if conn.execute(q.values(owner=owner, lease_ms=lease_ms, attempts=j.attempts + 1)).rowcount != 1:
        return None
    return int(conn.execute(select(j.attempts).where(*mine)).scalar_one())


def job_records(conn: Connection, tenant: str, run_id: str) -> bytes | None:
    """The records kept for a pending quality run (None once it is made)."""
    j = feed_quality_jobs.c
    blob = conn.execute(select(j.records).where(j.tenant == tenant, j.run_id == run_id)).scalar_one_or_none()
    return bytes(blob) if blob is not None else None


def finish(
    conn: Connection, tenant: str, run_id: str, owner: str, state: str, quality_run: str | None,
    taken_up: str | None,
) -> bool:  # fmt: skip
    """Store the outcome of a pending quality run made by ``owner`` and drop its records; False (nothing
    stored) when ``owner`` no longer holds it (its lease ran out and another process took it)."""
    j = feed_quality_jobs.c
    gone = delete(feed_quality_jobs).where(j.tenant == tenant, j.run_id == run_id, j.owner == owner)
    if conn.execute(gone).rowcount != 1:
        return False
    r = feed_runs.c
    q = update(feed_runs).where(r.tenant == tenant, r.id == run_id)
    conn.execute(q.values(quality=state, quality_run=quality_run, quality_taken_up=taken_up))
    return True


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
