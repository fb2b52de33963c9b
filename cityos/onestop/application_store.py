"""SQL of submissions and applications: insert a submission with its applications, move one expecting the
version read, read them and their history, a department's queue."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import Connection, bindparam, func, insert, select, update

from cityos.onestop.application_tables import application_history, applications, submissions

Row = dict[str, Any]


def insert_submission(conn: Connection, submission: Row, rows: list[Row], history: list[Row]) -> None:
    conn.execute(insert(submissions), [submission])
    conn.execute(insert(applications), rows)
    conn.execute(insert(application_history), history)


_s = submissions.c
# built once: every submission asks it first
_BY_KEY = select(submissions).where(_s.tenant == bindparam("t"), _s.applicant_kind == bindparam("k"),
                                    _s.applicant == bindparam("a"), _s.idempotency_key == bindparam("i"))  # fmt: skip


def by_idempotency_key(conn: Connection, tenant: str, kind: str, applicant: str, key: str) -> Row | None:
    found = conn.execute(_BY_KEY, {"t": tenant, "k": kind, "a": applicant, "i": key}).mappings().first()
    return dict(found) if found else None


def get_submission(conn: Connection, tenant: str, submission_id: str) -> Row | None:
    s = submissions.c
    found = conn.execute(select(submissions).where(s.tenant == tenant, s.id == submission_id)).mappings().first()
    return dict(found) if found else None


def of_applicant(conn: Connection, tenant: str, kind: str, applicant: str, limit: int) -> list[Row]:
    """An applicant's submissions, newest first (the idempotency index leads with the applicant)."""
    q = (select(submissions).where(_s.tenant == tenant, _s.applicant_kind == kind, _s.applicant == applicant)
         .order_by(_s.created_at_ms.desc(), _s.id.desc()).limit(limit))  # fmt: skip
    return [dict(r) for r in conn.execute(q).mappings()]


def of_submission(conn: Connection, tenant: str, submission_id: str) -> list[Row]:
    a = applications.c
    q = select(applications).where(a.tenant == tenant, a.submission_id == submission_id).order_by(a.position)
    return [dict(r) for r in conn.execute(q).mappings()]


def get(conn: Connection, tenant: str, app_id: str, *, lock: bool = False) -> Row | None:
    a = applications.c
    q = select(applications).where(a.tenant == tenant, a.id == app_id)
    found = conn.execute(q.with_for_update() if lock else q).mappings().first()
    return dict(found) if found else None


def move(conn: Connection, tenant: str, app_id: str, version: int, changes: Row, history: Row) -> bool:
    a = applications.c
    q = update(applications).where(a.tenant == tenant, a.id == app_id, a.version == version).values(**changes)
    if conn.execute(q).rowcount != 1:
        return False
    conn.execute(insert(application_history), [history])
    return True


def _where(tenant: str, department: str | None, state: str | None) -> list[Any]:
    a = applications.c
    where = [a.tenant == tenant]
    if department is not None:
        where.append(a.department == department)
    if state is not None:
        where.append(a.state == state)
    return where


def queue(conn: Connection, tenant: str, department: str | None, state: str | None, limit: int,
          offset: int) -> list[Row]:  # fmt: skip
    a = applications.c
    q = (select(applications).where(*_where(tenant, department, state))
         .order_by(a.created_at_ms, a.submission_id, a.position).limit(limit).offset(offset))  # fmt: skip
    return [dict(r) for r in conn.execute(q).mappings()]


def count(conn: Connection, tenant: str, department: str | None, state: str | None) -> int:
    q = select(func.count()).select_from(applications).where(*_where(tenant, department, state))
    return int(conn.execute(q).scalar_one())


def histories(conn: Connection, tenant: str, app_ids: list[str]) -> dict[str, list[Row]]:
    out: dict[str, list[Row]] = defaultdict(list)
    if not app_ids:
        return out
    h = application_history.c
    q = (select(application_history).where(h.tenant == tenant, h.application_id.in_(app_ids))
         .order_by(h.application_id, h.seq))  # fmt: skip
    for r in conn.execute(q).mappings():
        out[r["application_id"]].append(dict(r))
    return out
