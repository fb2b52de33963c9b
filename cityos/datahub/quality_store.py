"""SQL of the quality runs: write a run with its results and failures, and the queries that read them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, insert, select

from cityos.datahub.tables import quality_failures, quality_results, quality_runs

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
