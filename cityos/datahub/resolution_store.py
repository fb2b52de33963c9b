"""SQL of the entity resolution decisions: write a run's decisions, read them, settle one."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, func, insert, or_, select, update

from cityos.datahub.resolution_tables import resolutions

Row = dict[str, Any]
CHUNK = 5_000  # rows per statement: bounded on both databases


def insert_decisions(conn: Connection, rows: Sequence[Row]) -> None:
    for start in range(0, len(rows), CHUNK):
        conn.execute(insert(resolutions), list(rows[start : start + CHUNK]))


def get(conn: Connection, tenant: str, decision_id: str) -> Row | None:
    q = select(resolutions).where(resolutions.c.tenant == tenant, resolutions.c.id == decision_id)
    row = conn.execute(q).mappings().first()
    return dict(row) if row else None


def _where(
    tenant: str, run: str | None, decision: str | None, settled: bool | None, party: str | None
) -> ColumnElement[bool]:
    r = resolutions.c
    terms: list[ColumnElement[bool]] = [r.tenant == tenant]
    if run is not None:
        terms.append(r.run_id == run)
    if decision is not None:
        terms.append(r.decision == decision)
    if settled is not None:
        terms.append(r.settled.is_not(None) if settled else r.settled.is_(None))
    if party is not None:
        terms.append(or_(r.department == party, r.provider == party))
    return and_(*terms)


def page(
    conn: Connection, tenant: str, run: str | None, decision: str | None, settled: bool | None, party: str | None,
    limit: int, offset: int,
) -> list[Row]:  # fmt: skip
    r = resolutions.c
    q = select(resolutions).where(_where(tenant, run, decision, settled, party))
    q = q.order_by(r.at_ms.desc(), r.run_id, r.seq).limit(limit).offset(offset)
    return [dict(row) for row in conn.execute(q).mappings()]


def count(conn: Connection, tenant: str, run: str | None, decision: str | None, settled: bool | None,
          party: str | None) -> int:  # fmt: skip
    q = select(func.count()).select_from(resolutions).where(_where(tenant, run, decision, settled, party))
    return int(conn.execute(q).scalar_one())


def settle(conn: Connection, tenant: str, decision_id: str, values: Row) -> bool:
    """Write a settlement once: False when the decision is no longer an unsettled review (a race lost)."""
    r = resolutions.c
    q = update(resolutions).where(r.tenant == tenant, r.id == decision_id, r.decision == "review",
                                  r.settled.is_(None)).values(**values)  # fmt: skip
    return conn.execute(q).rowcount == 1
