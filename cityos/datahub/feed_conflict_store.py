"""SQL of the source's conflict list: the conflicts of one source with their runs, and the agreements."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, insert, select

from cityos.datahub.feed_conflict_tables import feed_agreements
from cityos.datahub.feed_tables import feed_conflicts, feed_runs

Row = dict[str, Any]
CHUNK = 10_000  # rows per statement: bounded on both databases


def conflicts_of(conn: Connection, tenant: str, source: str | None) -> list[Row]:
    """Every conflict on the items of ``source`` (None: of every source), with its run's department, entry and
    time."""
    c, r = feed_conflicts.c, feed_runs.c
    columns = (c.run_id, c.seq, c.record, c.entity_id, c.item, c.source, c.offered, r.code, r.department, r.at,
               r.at_ms)  # fmt: skip
    q = select(*columns).join_from(feed_conflicts, feed_runs, (r.tenant == c.tenant) & (r.id == c.run_id))
    q = q.where(c.tenant == tenant)
    if source is not None:
        q = q.where(c.source == source)
    return [dict(row) for row in conn.execute(q).mappings()]


def conflicts_by(conn: Connection, tenant: str, department: str) -> list[Row]:
    """The (record, item, entry) of every conflict the runs of ``department`` found."""
    c, r = feed_conflicts.c, feed_runs.c
    q = (
        select(c.record, c.item, r.code)
        .join_from(feed_conflicts, feed_runs, (r.tenant == c.tenant) & (r.id == c.run_id))
        .where(c.tenant == tenant, r.department == department)
        .distinct()
    )
    return [dict(row) for row in conn.execute(q).mappings()]


def agreements_of(conn: Connection, tenant: str, source: str | None) -> list[Row]:
    a = feed_agreements.c
    q = select(a.department, a.record, a.attribute, a.at_ms).where(a.tenant == tenant)
    if source is not None:
        q = q.where(a.source == source)
    return [dict(row) for row in conn.execute(q).mappings()]


def insert_agreements(conn: Connection, rows: Sequence[Row]) -> None:
    for start in range(0, len(rows), CHUNK):
        conn.execute(insert(feed_agreements), list(rows[start : start + CHUNK]))
