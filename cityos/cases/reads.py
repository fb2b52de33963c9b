"""Reading cases: one case with its history, lists and queues, the routing dry run and the supervision
figures (a follow token is read in :mod:`.following`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from typing_extensions import TypedDict, Unpack

from cityos.cases import record, store
from cityos.cases.classifying import ClassifierSource, classifier
from cityos.cases.dispatching import check_category, limit_of, routing_of, routing_view
from cityos.cases.effects import clock_columns
from cityos.cases.errors import CaseInvalid
from cityos.cases.schemas import CaseDetail, CaseView, DryRun, DryRunIn, FiguresView, Step, Supervision, TraceStep
from cityos.cases.settings import settings
from cityos.cases.supervision import CaseRecord, Figures, GroupBy, figures, overall
from cityos.cases.timelimits import iso, ms
from cityos.cases.views import case_view, steps
from cityos.cases.workflow import Action, Role, allowed_actions
from cityos.runtime import Runtime

GROUPINGS = ("department", "category", "department_category")


class Filters(TypedDict, total=False):
    """What :func:`search` may filter on (all given must hold)."""

    states: Sequence[str] | None
    categories: Sequence[str] | None
    ids: Sequence[str] | None
    category: str | None
    main_category: str | None
    department: str | None
    source: str | None
    grid: str | None
    street: str | None
    unit: str | None
    since_ms: int | None  # created at or after
    until_ms: int | None  # created at or before
    needs_confirmation: bool


def history(rt: Runtime, tenant: str, case_id: str) -> list[Step]:
    """A case's history, oldest first."""
    with rt.db.connect() as conn:
        rows = store.history(conn, tenant, case_id)
    if not rows:  # every case starts with its report
        raise record.no_case(case_id)
    return steps(rows)


def detail(rt: Runtime, tenant: str, case_id: str, roles: Sequence[Role | str]) -> CaseDetail:
    """A case, its history, and the actions each of ``roles`` may take now: one read of each."""
    with rt.db.connect() as conn:
        row = record.load(conn, tenant, case_id)
        rows = store.history(conn, tenant, case_id)
    snap = record.replayed(settings(rt), rows)
    allowed = {Role(r): [Action(a) for a in allowed_actions(snap, r)] for r in roles}
    return CaseDetail(case=case_view(row), history=steps(rows), allowed=allowed)


def search(
    rt: Runtime, tenant: str, limit: int = 50, offset: int = 0, **filters: Unpack[Filters]
) -> tuple[list[CaseView], int]:
    """Cases matching ``filters``, newest first, and how many match."""
    with rt.db.connect() as conn:
        rows, total = store.search(conn, tenant, dict(filters), limit, offset)
    return [case_view(r) for r in rows], total


def queue(
    rt: Runtime, tenant: str, department: str, states: tuple[str, ...] | None = None, limit: int = 50, offset: int = 0
) -> list[CaseView]:
    """A department's work queue (待办): its cases still to work on, the soonest due first."""
    with rt.db.connect() as conn:
        rows = store.queue(conn, tenant, department, states or store.QUEUE_STATES, limit, offset)
    return [case_view(r) for r in rows]


def dry_run(rt: Runtime, ask: DryRunIn, *, classify: ClassifierSource = classifier) -> DryRun:
    """Who would get this case (派单试算): the rule that matches, why the earlier ones did not, the time limit."""
    s = settings(rt)
    category, prediction = ask.category, None
    if category is None:
        if not ask.text:
            raise CaseInvalid("give a category, or a text to classify")
        prediction = classify(rt).predict(ask.text)
        category = prediction.sub
    check_category(s, category)
    at = ask.at or record.now()
    place = {"category": category, "lon": ask.lon, "lat": ask.lat, "grid": ask.grid, "street": ask.street}
    r = routing_of(s, place, at, trace=True)
    clock = clock_columns(limit_of(s, category), at)
    return DryRun(
        **routing_view(r).model_dump(),
        category=category,
        classification=prediction,
        trace=[TraceStep(rule=rule, why=why) for rule, why in r.trace],
        time_limit=clock["time_limit"],
        due_at=iso(clock["due_at_ms"]),
    )


def supervision(
    rt: Runtime, tenant: str, by: GroupBy, since: datetime, until: datetime, now: datetime | None = None
) -> Supervision:
    """The supervision figures (督办考核) of cases opened between ``since`` and ``until``."""
    if by not in GROUPINGS:
        raise CaseInvalid("by must be department, category or department_category")
    now_ms = ms(now or record.now())
    with rt.db.connect() as conn:
        rows = store.supervision_rows(conn, tenant, ms(since), ms(until))
    records = [
        CaseRecord(
            case_id=r["id"], department=r["department"] or "(none)", category=r["category"],
            created_at_ms=r["created_at_ms"], closed_at_ms=r["closed_at_ms"], handled_at_ms=r["handled_at_ms"],
            due_at_ms=r["due_at_ms"], returns=r["returns"], reopened=r["reopens"], rating=r["rating"], state=r["state"],
        )
        for r in rows
    ]  # fmt: skip
    return Supervision(
        since=since.isoformat(),
        until=until.isoformat(),
        overall=_figures_view(overall(records, now_ms)),
        groups=[_figures_view(f) for f in figures(records, by, now_ms)],
    )


def on_time_rate(rt: Runtime, tenant: str, since: datetime, until: datetime | None = None) -> float | None:
    """按时办结率 of the cases opened between ``since`` and ``until`` (None: now): of those done with a due time,
    the share done by it (see :mod:`cityos.cases.supervision`); None when none was done yet."""
    return supervision(rt, tenant, "department", since, until or record.now()).overall.on_time_rate


def _figures_view(f: Figures) -> FiguresView:
    return FiguresView(
        key=list(f.key),
        cases=f.cases,
        closed=f.closed,
        on_time_rate=f.on_time_rate,
        overdue_open=f.overdue_open,
        mean_handling_hours=f.mean_handling_h,
        p90_handling_hours=f.p90_handling_h,
        return_rate=f.return_rate,
        reopen_rate=f.reopen_rate,
        satisfaction=f.satisfaction,
        mean_rating=f.mean_rating,
    )
