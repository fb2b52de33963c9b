"""SQL of the quality runs: write a run with its results and failures, and the queries that read them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, func, insert, select

from cityos.datahub.tables import catalogue_entries, quality_failures, quality_results, quality_runs

Row = dict[str, Any]


def insert_run(conn: Connection, run: Row, results: Sequence[Row], failures: Sequence[Row]) -> None:
    conn.execute(insert(quality_runs), [run])
    if results:
        conn.execute(insert(quality_results), list(results))
    for start in range(0, len(failures), 10_000):  # bounded statements on both databases
        conn.execute(insert(quality_failures), list(failures[start : start + 10_000]))


def get_run(conn: Connection, tenant: str, run_id: str) -> Row | None:
    q = select(quality_runs).where(quality_runs.c.tenant == tenant, quality_runs.c.id == run_id)
    row = conn.execute(q).mappings().first()
    return dict(row) if row else None


def results(conn: Connection, tenant: str, run_id: str) -> list[Row]:
    r = quality_results.c
    q = select(quality_results).where(r.tenant == tenant, r.run_id == run_id).order_by(r.seq)
    return [dict(r) for r in conn.execute(q).mappings()]


def failures(conn: Connection, tenant: str, run_id: str, rule: str | None, limit: int, offset: int) -> list[Row]:
    f = quality_failures.c
    q = select(quality_failures).where(f.tenant == tenant, f.run_id == run_id)
    if rule is not None:
        q = q.where(f.rule == rule)
    return [dict(r) for r in conn.execute(q.order_by(f.seq).limit(limit).offset(offset)).mappings()]


def latest_runs(conn: Connection, tenant: str, code: str, limit: int) -> list[Row]:
    r = quality_runs.c
    q = select(quality_runs).where(r.tenant == tenant, r.code == code).order_by(r.at_ms.desc(), r.id).limit(limit)
    return [dict(row) for row in conn.execute(q).mappings()]


def count_failures(conn: Connection, tenant: str, run_id: str, rule: str | None) -> int:
    f = quality_failures.c
    q = select(func.count()).select_from(quality_failures).where(f.tenant == tenant, f.run_id == run_id)
    if rule is not None:
        q = q.where(f.rule == rule)
    return int(conn.execute(q).scalar_one())


def _filtered(tenant: str, codes: Sequence[str] | None, department: str | None, feed_run: str | None) -> list[Any]:
    r = quality_runs.c
    where: list[Any] = [r.tenant == tenant]
    if feed_run is not None:
        where.append(r.feed_run == feed_run)
    if codes is not None:
        where.append(r.code.in_(list(codes)))
    if department is not None:
        where.append(r.department == department)
    return where


def runs(
    conn: Connection, tenant: str, codes: Sequence[str] | None, department: str | None, limit: int, offset: int,
    feed_run: str | None = None,
) -> tuple[list[Row], int]:  # fmt: skip
    """A page of runs, newest first (of the datasets ``codes`` and of ``department`` when given), and the total."""
    r = quality_runs.c
    where = _filtered(tenant, codes, department, feed_run)
    q = select(quality_runs).where(*where).order_by(r.at_ms.desc(), r.id).limit(limit).offset(offset)
    total = conn.execute(select(func.count()).select_from(quality_runs).where(*where)).scalar_one()
    return [dict(row) for row in conn.execute(q).mappings()], int(total)


def latest_per_code(conn: Connection, tenant: str) -> list[Row]:
    """The newest run of every dataset with a run (one query: each run with no newer run of its dataset)."""
    r, newer = quality_runs.c, quality_runs.alias("newer")
    later = (
        select(newer.c.id)
        .where(newer.c.tenant == r.tenant, newer.c.code == r.code)
        .where((newer.c.at_ms > r.at_ms) | ((newer.c.at_ms == r.at_ms) & (newer.c.id > r.id)))
        .exists()
    )
    q = select(quality_runs).where(r.tenant == tenant, ~later).order_by(r.code)
    return [dict(row) for row in conn.execute(q).mappings()]


def tenants_with_entries(conn: Connection) -> list[str]:
    """The tenants whose catalogue holds an entry (the scheduled runs look at each)."""
    return [str(t) for t in conn.execute(select(catalogue_entries.c.tenant).distinct()).scalars()]
