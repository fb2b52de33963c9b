"""SQL of the assistant's handovers (转人工)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, insert, select, update

from cityos.onestop.assistant_tables import handovers

Row = dict[str, Any]
h = handovers.c


def insert_handover(conn: Connection, row: Row) -> None:
    conn.execute(insert(handovers), [row])


def get(conn: Connection, tenant: str, handover_id: str) -> Row | None:
    found = conn.execute(select(handovers).where(h.tenant == tenant, h.id == handover_id)).mappings().first()
    return dict(found) if found else None


def queue(conn: Connection, tenant: str, state: str | None, department: str | None, limit: int) -> list[Row]:
    """Handovers oldest first (a queue), of one state and one department's when asked."""
    q = select(handovers).where(h.tenant == tenant)
    if state is not None:
        q = q.where(h.state == state)
    if department is not None:
        q = q.where(h.department == department)
    return [dict(r) for r in conn.execute(q.order_by(h.created_at_ms, h.id).limit(limit)).mappings()]


def answer(conn: Connection, tenant: str, handover_id: str, values: Row) -> bool:
    """Record the answer of a waiting handover; False when it is not waiting (any more)."""
    done = conn.execute(update(handovers).where(h.tenant == tenant, h.id == handover_id, h.state == "waiting")
                        .values(state="answered", **values))  # fmt: skip
    return done.rowcount == 1
