"""SQL of the vitals package."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, and_, delete, func, insert, select, update

from cityos.vitals.tables import indicators, prewarnings, values, warning_events, warnings

# --- definitions -------------------------------------------------------------------------------------


def live_definitions(conn: Connection, tenant: str) -> list[dict[str, Any]]:
    """The newest version of every indicator not retired."""
    newest = (
        select(indicators.c.id, func.max(indicators.c.version).label("v"))
        .where(indicators.c.tenant == tenant)
        .group_by(indicators.c.id)
        .subquery()
    )
    q = (
        select(indicators.c.definition, indicators.c.retired)
        .join(newest, and_(indicators.c.id == newest.c.id, indicators.c.version == newest.c.v))
        .where(indicators.c.tenant == tenant)
        .order_by(indicators.c.id)
    )
    return [dict(r.definition) for r in conn.execute(q) if not r.retired]


def newest_version(conn: Connection, tenant: str, indicator_id: str) -> int:
    q = select(func.max(indicators.c.version)).where(indicators.c.tenant == tenant, indicators.c.id == indicator_id)
    return int(conn.execute(q).scalar() or 0)


def insert_definitions(conn: Connection, tenant: str, rows: list[dict[str, Any]], at: str, by: str | None) -> None:
    if rows:
        conn.execute(
            insert(indicators),
            [
                {"tenant": tenant, "id": d["id"], "version": d["version"], "definition": d, "created_at": at,
                 "created_by": by, "retired": 0}
                for d in rows
            ],
        )  # fmt: skip


def count_definitions(conn: Connection, tenant: str) -> int:
    return int(
        conn.execute(select(func.count()).select_from(indicators).where(indicators.c.tenant == tenant)).scalar() or 0
    )


# --- values ------------------------------------------------------------------------------------------


ValueRow = tuple[str, str, int, float | None, int] | tuple[str, str, int, float | None, int, float | None]


def insert_values(conn: Connection, tenant: str, rows: Sequence[ValueRow]) -> None:
    """(indicator, scope, at_ms, value, level[, filling]) rows (no filling: the window was full); a row for a
    key written already is left alone."""
    if not rows:
        return
    dialect = conn.dialect.name
    mark = "%s" if dialect == "postgresql" else "?"
    conn.exec_driver_sql(
        "INSERT INTO vitals_values (tenant, indicator, scope, at_ms, value, level, filling) "
        f"VALUES ({', '.join([mark] * 7)}) ON CONFLICT (tenant, indicator, scope, at_ms) DO NOTHING",
        [(tenant, *r, *([None] * (6 - len(r)))) for r in rows],
    )


def value_history(
    conn: Connection, tenant: str, indicator: str, scope: str | None, since_ms: int, limit: int
) -> list[Any]:
    q = select(values).where(values.c.tenant == tenant, values.c.indicator == indicator, values.c.at_ms >= since_ms)
    if scope is not None:
        q = q.where(values.c.scope == scope)
    return list(conn.execute(q.order_by(values.c.at_ms.desc()).limit(limit)))


def scopes_of(conn: Connection, tenant: str, indicator: str) -> list[str]:
    """The groups an indicator has stored values for."""
    q = select(values.c.scope).where(values.c.tenant == tenant, values.c.indicator == indicator).distinct()
    return sorted(conn.execute(q).scalars())


def recent_values(conn: Connection, tenant: str, n: int) -> dict[tuple[str, str], list[Any]]:
    """The newest ``n`` values of every indicator in every group, newest first."""
    rank = (
        func.row_number()
        .over(partition_by=(values.c.indicator, values.c.scope), order_by=values.c.at_ms.desc())
        .label("rank")
    )
    ranked = select(values, rank).where(values.c.tenant == tenant).subquery()
    q = select(ranked).where(ranked.c.rank <= n).order_by(ranked.c.indicator, ranked.c.scope, ranked.c.rank)
    out: dict[tuple[str, str], list[Any]] = {}
    for r in conn.execute(q):
        out.setdefault((r.indicator, r.scope), []).append(r)
    return out


# --- warnings ----------------------------------------------------------------------------------------


def active_warning(conn: Connection, tenant: str, indicator: str, scope: str) -> Any | None:
    q = select(warnings).where(
        warnings.c.tenant == tenant,
        warnings.c.indicator == indicator,
        warnings.c.scope == scope,
        warnings.c.active == 1,
    )
    return conn.execute(q).first()


def insert_warning(conn: Connection, row: dict[str, Any]) -> None:
    conn.execute(insert(warnings).values(**row))


def update_warning(conn: Connection, warning_id: str, **changes: Any) -> None:
    conn.execute(update(warnings).where(warnings.c.id == warning_id).values(**changes))


def add_event(conn: Connection, warning_id: str, row: dict[str, Any]) -> None:
    seq = conn.execute(
        select(func.coalesce(func.max(warning_events.c.seq), 0)).where(warning_events.c.warning_id == warning_id)
    ).scalar_one()
    conn.execute(insert(warning_events).values(warning_id=warning_id, seq=seq + 1, **row))


def get_warning(conn: Connection, warning_id: str) -> Any | None:
    return conn.execute(select(warnings).where(warnings.c.id == warning_id)).first()


def events_of(conn: Connection, warning_id: str) -> list[Any]:
    q = select(warning_events).where(warning_events.c.warning_id == warning_id).order_by(warning_events.c.seq)
    return list(conn.execute(q))


def list_warnings(
    conn: Connection,
    tenant: str,
    *,
    active: bool | None,
    indicator: str | None,
    scope: str | None,
    min_level: int | None,
    limit: int,
    offset: int,
) -> tuple[list[Any], int]:
    conds = [warnings.c.tenant == tenant]
    if active is not None:
        conds.append(warnings.c.active == (1 if active else 0))
    if indicator:
        conds.append(warnings.c.indicator == indicator)
    if scope:
        conds.append(warnings.c.scope == scope)
    if min_level:
        conds.append(warnings.c.level >= min_level)
    q = select(warnings).where(*conds).order_by(warnings.c.level.desc(), warnings.c.updated_at.desc())
    total = conn.execute(select(func.count()).select_from(warnings).where(*conds)).scalar_one()
    return list(conn.execute(q.limit(limit).offset(offset))), int(total)


def active_warnings(conn: Connection, tenant: str) -> list[Any]:
    return list(conn.execute(select(warnings).where(warnings.c.tenant == tenant, warnings.c.active == 1)))


# --- pre-warnings --------------------------------------------------------------------------------------


def prewarnings_of(conn: Connection, tenant: str, indicator: str | None = None, scope: str | None = None) -> list[Any]:
    conds = [prewarnings.c.tenant == tenant]
    if indicator:
        conds.append(prewarnings.c.indicator == indicator)
    if scope:
        conds.append(prewarnings.c.scope == scope)
    q = select(prewarnings).where(*conds).order_by(prewarnings.c.level.desc(), prewarnings.c.expected_at)
    return list(conn.execute(q))


def replace_prewarnings(conn: Connection, tenant: str, indicator: str, scope: str, rows: list[dict[str, Any]]) -> None:
    """The group's pre-warnings become ``rows`` (level, expected_at, probability, method, issued_at)."""
    conn.execute(
        delete(prewarnings).where(
            prewarnings.c.tenant == tenant, prewarnings.c.indicator == indicator, prewarnings.c.scope == scope
        )
    )
    if rows:
        conn.execute(
            insert(prewarnings), [{"tenant": tenant, "indicator": indicator, "scope": scope, **r} for r in rows]
        )


def newest_value_ms(conn: Connection, tenant: str) -> int | None:
    """The time of the tenant's newest stored value, None without any."""
    found = conn.execute(select(func.max(values.c.at_ms)).where(values.c.tenant == tenant)).scalar()
    return None if found is None else int(found)
