"""SQL of once-only evidence: a material's row, its steps (the row rewritten expecting the version read, a
history row appended), the uploaded files, and the counts by state."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update

from cityos.onestop.evidence_tables import evidence, evidence_history, uploads

Row = dict[str, Any]
UPLOAD_META = (uploads.c.material_code, uploads.c.filename, uploads.c.content_type, uploads.c.size, uploads.c.sha256,
               uploads.c.uploaded_at_ms, uploads.c.by)  # fmt: skip


def get(conn: Connection, tenant: str, app_id: str, code: str) -> Row | None:
    e = evidence.c
    q = select(evidence).where(e.tenant == tenant, e.application_id == app_id, e.material_code == code)
    found = conn.execute(q).mappings().first()
    return dict(found) if found else None


def insert_row(conn: Connection, row: Row, history: Row) -> None:
    conn.execute(insert(evidence), [row])
    conn.execute(insert(evidence_history), [history])


def move(conn: Connection, tenant: str, app_id: str, code: str, version: int, changes: Row, history: Row) -> bool:
    """Rewrite the row if it is still at ``version`` (and append its history row); False when it moved meanwhile."""
    e = evidence.c
    q = update(evidence).where(e.tenant == tenant, e.application_id == app_id, e.material_code == code,
                               e.version == version).values(**changes)  # fmt: skip
    if conn.execute(q).rowcount != 1:
        return False
    conn.execute(insert(evidence_history), [history])
    return True


def put_upload(conn: Connection, row: Row) -> None:
    """The file of a material, replacing the one uploaded before, if any."""
    u = uploads.c
    conn.execute(delete(uploads).where(u.tenant == row["tenant"], u.application_id == row["application_id"],
                                       u.material_code == row["material_code"]))  # fmt: skip
    conn.execute(insert(uploads), [row])


def of_application(conn: Connection, tenant: str, app_id: str) -> list[Row]:
    e = evidence.c
    q = select(evidence).where(e.tenant == tenant, e.application_id == app_id)
    q = q.order_by(e.created_at_ms, e.material_code)
    return [dict(r) for r in conn.execute(q).mappings()]


def histories(conn: Connection, tenant: str, app_id: str) -> dict[str, list[Row]]:
    h = evidence_history.c
    q = select(evidence_history).where(h.tenant == tenant, h.application_id == app_id).order_by(h.material_code, h.seq)
    out: dict[str, list[Row]] = {}
    for r in conn.execute(q).mappings():
        out.setdefault(r["material_code"], []).append(dict(r))
    return out


def uploads_of(conn: Connection, tenant: str, app_id: str) -> dict[str, Row]:
    u = uploads.c
    q = select(*UPLOAD_META).where(u.tenant == tenant, u.application_id == app_id)
    return {r["material_code"]: dict(r) for r in conn.execute(q).mappings()}


def upload_content(conn: Connection, tenant: str, app_id: str, code: str) -> bytes | None:
    u = uploads.c
    q = select(u.content).where(u.tenant == tenant, u.application_id == app_id, u.material_code == code)
    found = conn.execute(q).scalar()
    return bytes(found) if found is not None else None


def counts(conn: Connection, tenant: str) -> tuple[dict[str, int], int]:
    """The tenant's materials by state, and how many of them the applicant declined (uploaded since or not)."""
    e = evidence.c
    by_state = {s: int(n) for s, n in conn.execute(
        select(e.state, func.count()).where(e.tenant == tenant).group_by(e.state))}  # fmt: skip
    declined = conn.execute(
        select(func.count()).select_from(evidence).where(e.tenant == tenant, e.declined_at_ms.is_not(None))
    ).scalar_one()
    return by_state, int(declined)
