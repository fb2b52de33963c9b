"""SQL of the cases package: append events, rewrite the projection row, and the queries that read it."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, Float, and_, bindparam, func, insert, select, text, update

from cityos.cases.tables import QUEUE_STATES, QUEUED_SQL, cases, corrections, events, reports
from cityos.cases.workflow import OPEN
from cityos.store.prepared import Prepared, RowInsert

OPEN_STATES = tuple(str(s) for s in OPEN)  # every state but closed, cancelled, merged, split
TIMED_STATES = ("dispatched", "accepted", "in_progress")  # a suspended case's clock stands still
Row = dict[str, Any]  # a row as the database gives it, or the columns to write


# prepared once per dialect: a report writes a case and its opening events (one INSERT for all of them)
_INSERT_CASE, _INSERT_EVENTS = RowInsert(cases, max_rows=1), RowInsert(events)


def insert_case(conn: Connection, row: Row) -> None:
    _INSERT_CASE(conn, [row])


def update_case(conn: Connection, tenant: str, case_id: str, expected_version: int, changes: Row) -> bool:
    """Rewrite the projection if nobody wrote it since ``expected_version`` was read; False if somebody did."""
    n = conn.execute(
        update(cases)
        .where(cases.c.tenant == tenant, cases.c.id == case_id, cases.c.version == expected_version)
        .values(**changes)
    ).rowcount
    return bool(n)


def append_events(conn: Connection, rows: Sequence[Row]) -> None:
    """History rows, in one INSERT (up to sixteen at a time)."""
    if rows:
        _INSERT_EVENTS(conn, rows)


def get_case(conn: Connection, tenant: str, case_id: str) -> Row | None:
    row = conn.execute(select(cases).where(cases.c.tenant == tenant, cases.c.id == case_id)).mappings().first()
    return dict(row) if row else None


def get_cases(conn: Connection, tenant: str, ids: Iterable[str]) -> list[Row]:
    ids = list(ids)
    if not ids:
        return []
    q = select(cases).where(cases.c.tenant == tenant, cases.c.id.in_(ids))
    return [dict(r) for r in conn.execute(q).mappings()]


def by_follow_token(conn: Connection, token: str) -> Row | None:
    row = conn.execute(select(cases).where(cases.c.follow_token == token)).mappings().first()
    return dict(row) if row else None


def insert_report(conn: Connection, row: Row) -> None:
    """A duplicate report's follow token (tenant, case_id, seq, follow_token, created_at_ms)."""
    conn.execute(insert(reports), [{"rating": None, **row}])


def report_by_token(conn: Connection, token: str) -> Row | None:
    row = conn.execute(select(reports).where(reports.c.follow_token == token)).mappings().first()
    return dict(row) if row else None


def reports_of(conn: Connection, tenant: str, case_id: str) -> list[Row]:
    """The duplicate reports linked to a case, in the order they came."""
    q = select(reports).where(reports.c.tenant == tenant, reports.c.case_id == case_id).order_by(reports.c.seq)
    return [dict(r) for r in conn.execute(q).mappings()]


def rate_report(conn: Connection, token: str, rating: int) -> bool:
    """Record a duplicate report's rating; False if it was rated already."""
    q = update(reports).where(reports.c.follow_token == token, reports.c.rating.is_(None)).values(rating=rating)
    return bool(conn.execute(q).rowcount)


def by_origin(conn: Connection, tenant: str, origin: str) -> Row | None:
    row = conn.execute(select(cases).where(cases.c.tenant == tenant, cases.c.origin == origin)).mappings().first()
    return dict(row) if row else None


def history(conn: Connection, tenant: str, case_id: str) -> list[Row]:
    q = select(events).where(events.c.tenant == tenant, events.c.case_id == case_id).order_by(events.c.seq)
    return [dict(r) for r in conn.execute(q).mappings()]


def queue(
    conn: Connection, tenant: str, department: str, states: Sequence[str], limit: int, offset: int = 0
) -> list[Row]:
    """A department's cases in the given states, the soonest due first. The queue's own states are
    written out literally, so that the database reads them off the partial index ``ix_cases_queued``."""
    in_states = text(QUEUED_SQL) if tuple(states) == QUEUE_STATES else cases.c.state.in_(states)
    q = (
        select(cases)
        .where(cases.c.tenant == tenant, cases.c.department == department, in_states)
        .order_by(cases.c.due_at_ms, cases.c.id)
        .limit(limit)
        .offset(offset)
    )
    return [dict(r) for r in conn.execute(q).mappings()]


def search(conn: Connection, tenant: str, filters: Row, limit: int, offset: int) -> tuple[list[Row], int]:
    """Cases matching ``filters`` (state/states, category, main_category, department, source, grid, street,
    unit, since_ms, until_ms, ids, needs_confirmation), newest first, and how many match."""
    cond = [cases.c.tenant == tenant]
    for key in ("category", "main_category", "department", "source", "grid", "street", "unit"):
        if filters.get(key):
            cond.append(cases.c[key] == filters[key])
    if filters.get("states"):
        cond.append(cases.c.state.in_(list(filters["states"])))
    if filters.get("categories"):
        cond.append(cases.c.category.in_(list(filters["categories"])))
    if filters.get("ids"):
        cond.append(cases.c.id.in_(list(filters["ids"])))
    if filters.get("since_ms") is not None:
        cond.append(cases.c.created_at_ms >= filters["since_ms"])
    if filters.get("until_ms") is not None:
        cond.append(cases.c.created_at_ms <= filters["until_ms"])
    if filters.get("needs_confirmation"):
        cond.append(cases.c.needs_confirmation == 1)
    where = and_(*cond)
    total = int(conn.execute(select(func.count()).select_from(cases).where(where)).scalar() or 0)
    q = select(cases).where(where).order_by(cases.c.created_at_ms.desc(), cases.c.id).limit(limit).offset(offset)
    return [dict(r) for r in conn.execute(q).mappings()], total


OPEN_SQL = "state IN (" + ", ".join(f"'{s}'" for s in OPEN_STATES) + ")"
_NEARBY: dict[int, Prepared] = {}  # by the number of categories


def _nearby_statement(n: int) -> Prepared:
    """Open cases of ``n`` categories in a box since a time: prepared once per length of the category list
    (a report looks for duplicates; preparing it costs more than running it on ix_cases_category_open)."""
    got = _NEARBY.get(n)
    if got is None:
        got = _NEARBY[n] = Prepared(
            select(
                cases.c.id, cases.c.category, cases.c.main_category, cases.c.lon, cases.c.lat,
                cases.c.created_at_ms, cases.c.state,
            ).where(
                cases.c.tenant == bindparam("tenant"),
                cases.c.category.in_([bindparam(f"category_{i}", type_=cases.c.category.type) for i in range(n)]),
                text(OPEN_SQL),
                cases.c.created_at_ms >= bindparam("since_ms", type_=cases.c.created_at_ms.type),
                cases.c.lon.between(bindparam("min_lon", type_=Float()), bindparam("max_lon", type_=Float())),
                cases.c.lat.between(bindparam("min_lat", type_=Float()), bindparam("max_lat", type_=Float())),
            )
        )  # fmt: skip
    return got


def nearby_open(
    conn: Connection, tenant: str, categories: Sequence[str], box: tuple[float, float, float, float], since_ms: int
) -> list[Row]:
    """Open cases of these categories reported since ``since_ms`` inside the (lon, lat) box."""
    if not categories:
        return []
    min_lon, min_lat, max_lon, max_lat = box
    params = {"tenant": tenant, "since_ms": since_ms, "min_lon": min_lon, "max_lon": max_lon,
              "min_lat": min_lat, "max_lat": max_lat}  # fmt: skip
    params.update({f"category_{i}": c for i, c in enumerate(categories)})
    return [dict(r) for r in _nearby_statement(len(categories)).execute(conn, params).mappings()]


def due_for_reminder(conn: Connection, tenant: str, now_ms: int, limit: int = 500) -> list[Row]:
    q = select(cases.c.id, cases.c.version).where(
        cases.c.tenant == tenant, cases.c.state.in_(TIMED_STATES), cases.c.reminded == 0, cases.c.remind_at_ms <= now_ms
    )
    return [dict(r) for r in conn.execute(q.limit(limit)).mappings()]


def due_for_escalation(conn: Connection, tenant: str, now_ms: int, limit: int = 500) -> list[Row]:
    q = select(cases.c.id, cases.c.version).where(
        cases.c.tenant == tenant, cases.c.state.in_(TIMED_STATES), cases.c.next_escalation_ms <= now_ms
    )
    return [dict(r) for r in conn.execute(q.limit(limit)).mappings()]


def supervision_rows(conn: Connection, tenant: str, since_ms: int, until_ms: int) -> list[Row]:
    cols = [cases.c[n] for n in ("id", "department", "category", "created_at_ms", "closed_at_ms", "handled_at_ms",
                                 "due_at_ms", "returns", "reopens", "rating", "state")]  # fmt: skip
    q = select(*cols).where(cases.c.tenant == tenant, cases.c.created_at_ms.between(since_ms, until_ms))
    return [dict(r) for r in conn.execute(q).mappings()]


def add_correction(conn: Connection, row: Row) -> None:
    conn.execute(insert(corrections), [row])


def list_corrections(conn: Connection, tenant: str | None = None) -> list[Row]:
    q = select(corrections).order_by(corrections.c.id)
    if tenant is not None:
        q = q.where(corrections.c.tenant == tenant)
    return [dict(r) for r in conn.execute(q).mappings()]
