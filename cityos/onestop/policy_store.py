"""SQL of policy matching: runs, notices (inserted only for the subjects a policy version has not notified
yet: the unique key holds it under a concurrent run too), grants, and the counts per policy."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from cityos.onestop.policy_tables import policy_grants, policy_notices, policy_runs

Row = dict[str, Any]


def insert_run(conn: Connection, row: Row) -> None:
    conn.execute(insert(policy_runs), [row])


def update_run(conn: Connection, tenant: str, run_id: str, changes: Row) -> None:
    r = policy_runs.c
    conn.execute(update(policy_runs).where(r.tenant == tenant, r.id == run_id).values(**changes))


def get_run(conn: Connection, tenant: str, run_id: str) -> Row | None:
    r = policy_runs.c
    found = conn.execute(select(policy_runs).where(r.tenant == tenant, r.id == run_id)).mappings().first()
    return dict(found) if found else None


def running(conn: Connection, holder: str) -> list[Row]:
    """The runs of every tenant still running and not held by ``holder``: not taken yet, or left by a process
    that stopped (only one process holds the onestop role at a time), oldest first."""
    r = policy_runs.c
    q = select(policy_runs).where(r.state == "running", (r.holder.is_(None)) | (r.holder != holder))
    return [dict(x) for x in conn.execute(q.order_by(r.started_at_ms, r.id)).mappings()]


def take(conn: Connection, tenant: str, run_id: str, was: str | None, holder: str, attempts: int) -> bool:
    """Take a running run held by ``was`` (None: by nobody) for ``holder``; False when another took it first."""
    r = policy_runs.c
    held = r.holder.is_(None) if was is None else r.holder == was
    q = update(policy_runs).where(r.tenant == tenant, r.id == run_id, r.state == "running", held)
    return conn.execute(q.values(holder=holder, attempts=attempts)).rowcount == 1


def notified_by(conn: Connection, tenant: str, run_id: str) -> int:
    """The notices run ``run_id`` wrote (before its process stopped, when it is taken again)."""
    n = policy_notices.c
    q = select(func.count()).select_from(policy_notices).where(n.tenant == tenant, n.run_id == run_id)
    return int(conn.execute(q).scalar_one())


def runs(conn: Connection, tenant: str, code: str, limit: int) -> list[Row]:
    r = policy_runs.c
    q = select(policy_runs).where(r.tenant == tenant, r.policy_code == code).order_by(r.started_at_ms.desc())
    return [dict(x) for x in conn.execute(q.limit(limit)).mappings()]


def notified_among(conn: Connection, tenant: str, code: str, version: int, subjects: Sequence[str]) -> set[str]:
    """Those of ``subjects`` the policy version has notified already."""
    n = policy_notices.c
    q = select(n.subject_id).where(n.tenant == tenant, n.policy_code == code, n.policy_version == version,
                                   n.subject_id.in_(list(subjects)))  # fmt: skip
    return {row[0] for row in conn.execute(q)}


def insert_notices(conn: Connection, rows: list[Row]) -> None:
    if rows:
        conn.execute(insert(policy_notices), rows)


def notice(conn: Connection, tenant: str, notice_id: str) -> Row | None:
    n = policy_notices.c
    found = conn.execute(select(policy_notices).where(n.tenant == tenant, n.id == notice_id)).mappings().first()
    return dict(found) if found else None


def notices_of(conn: Connection, tenant: str, subject_id: str, limit: int) -> list[Row]:
    n = policy_notices.c
    q = select(policy_notices).where(n.tenant == tenant, n.subject_id == subject_id)
    return [dict(x) for x in conn.execute(q.order_by(n.created_at_ms.desc(), n.id).limit(limit)).mappings()]


def notices_of_policy(conn: Connection, tenant: str, code: str, limit: int, offset: int) -> list[Row]:
    n = policy_notices.c
    q = select(policy_notices).where(n.tenant == tenant, n.policy_code == code)
    q = q.order_by(n.created_at_ms.desc(), n.id).limit(limit).offset(offset)
    return [dict(x) for x in conn.execute(q).mappings()]


def decide(conn: Connection, tenant: str, notice_id: str, state: str, at_ms: int, by: str) -> bool:
    """Move a notice that is still ``notified``; False when it was decided meanwhile."""
    n = policy_notices.c
    q = update(policy_notices).where(n.tenant == tenant, n.id == notice_id, n.state == "notified")
    return conn.execute(q.values(state=state, decided_at_ms=at_ms, decided_by=by)).rowcount == 1


def insert_grant(conn: Connection, row: Row) -> None:
    conn.execute(insert(policy_grants), [row])


def grant(conn: Connection, tenant: str, notice_id: str) -> Row | None:
    g = policy_grants.c
    found = conn.execute(select(policy_grants).where(g.tenant == tenant, g.notice_id == notice_id)).mappings().first()
    return dict(found) if found else None


def counts(conn: Connection, tenant: str) -> dict[str, dict[str, int]]:
    """Notices by policy and state: policy code -> state -> count."""
    n = policy_notices.c
    q = select(n.policy_code, n.state, func.count()).where(n.tenant == tenant).group_by(n.policy_code, n.state)
    out: dict[str, dict[str, int]] = {}
    for code, state, count in conn.execute(q):
        out.setdefault(code, {})[state] = int(count)
    return out
