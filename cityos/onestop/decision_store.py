"""SQL of the automatic decisions: append one, the latest of some applications."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, func, insert, select

from cityos.onestop.decision_tables import decisions

Row = dict[str, Any]
d = decisions.c


def append(conn: Connection, row: Row) -> Row:
    """Insert the decision as the application's next (``seq`` set here)."""
    q = select(func.max(d.seq)).where(d.tenant == row["tenant"], d.application_id == row["application_id"])
    row = {**row, "seq": (conn.execute(q).scalar_one() or 0) + 1}
    conn.execute(insert(decisions), [row])
    return row


def latest(conn: Connection, tenant: str, app_ids: Sequence[str]) -> dict[str, Row]:
    """The latest decision of each of ``app_ids`` that has one (one query)."""
    if not app_ids:
        return {}
    newest = (
        select(d.application_id, func.max(d.seq).label("seq"))
        .where(d.tenant == tenant, d.application_id.in_(list(app_ids)))
        .group_by(d.application_id)
        .subquery()
    )
    q = select(decisions).join(newest, (d.application_id == newest.c.application_id) & (d.seq == newest.c.seq))
    return {r["application_id"]: dict(r) for r in conn.execute(q.where(d.tenant == tenant)).mappings()}
