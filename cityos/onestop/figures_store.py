"""SQL of the one-stop figures the plans track: submissions by channel and kind, e-certificates issued."""

from __future__ import annotations

from sqlalchemy import Connection, func, select

from cityos.onestop.application_tables import submissions
from cityos.onestop.credential_tables import credentials

Counts = list[tuple[str | None, bool, int]]


def submission_counts(conn: Connection, tenant: str, since_ms: int, until_ms: int) -> Counts:
    """(channel, of a bundle, how many) of the submissions made in [since, until)."""
    s = submissions.c
    bundled = s.bundle.is_not(None)
    q = (
        select(s.channel, bundled, func.count())
        .where(s.tenant == tenant, s.created_at_ms >= since_ms, s.created_at_ms < until_ms)
        .group_by(s.channel, bundled)
    )
    return [(r[0], bool(r[1]), int(r[2])) for r in conn.execute(q)]


def credentials_issued(conn: Connection, tenant: str, since_ms: int, until_ms: int) -> int:
    """E-certificates issued in [since, until), whatever their state now."""
    c = credentials.c
    q = select(func.count()).where(c.tenant == tenant, c.issued_at_ms >= since_ms, c.issued_at_ms < until_ms)
    return int(conn.execute(q).scalar_one())
