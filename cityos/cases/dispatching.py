"""Where a case goes and by when: the routing rules and the category's time limit applied to a case."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from cityos.cases import effects
from cityos.cases.errors import CaseInvalid
from cityos.cases.routing import Routing, route
from cityos.cases.schemas import RoutingView
from cityos.cases.settings import CasesSettings
from cityos.cases.store import Row
from cityos.cases.timelimits import TimeLimit, parse_time_limit
from cityos.cases.workflow import Action, Event, Role


def check_category(s: CasesSettings, code: str) -> None:
    if not s.taxonomy.has_sub(code):
        raise CaseInvalid(f"category {code!r} is not a sub-category code: GET /cases/taxonomy lists them")


def limit_of(s: CasesSettings, category: str) -> TimeLimit:
    """The time limit of a sub-category."""
    return parse_time_limit(s.taxonomy.sub(category).time_limit)


def routing_of(s: CasesSettings, place: Mapping[str, Any], at: datetime, trace: bool = False) -> Routing:
    """Who the routing rules give a case of ``place["category"]`` at its place (lon, lat, grid, street)."""
    sub = s.taxonomy.sub(place["category"])
    location = (place["lon"], place["lat"]) if place.get("lon") is not None else None
    return route(
        s.rules,
        category=place["category"],
        main_category=sub.main,
        location=location,
        grid=place.get("grid"),
        street=place.get("street"),
        at=at,
        default_department=sub.department,
        trace=trace,
    )


def routing_view(r: Routing) -> RoutingView:
    return RoutingView(
        department=r.department,
        cooperating=list(r.cooperating),
        rule=r.rule_id,
        level=r.level,
        explanation=r.explanation,
        explanation_zh=r.explanation_zh,
    )


def routing_doc(r: Routing) -> Row:
    """The routing as a case's projection row keeps it (the ``routing`` of the case's view)."""
    return routing_view(r).model_dump(mode="json", by_alias=True)


def register_and_dispatch(
    s: CasesSettings, row: Row, at: datetime, actor: str, role: Role
) -> tuple[list[Event], Row, Routing]:
    """Register a case whose category is settled and dispatch it to the department the routing rules name,
    starting the category's time limit: the events, the projection columns they set, and the routing."""
    routing = routing_of(s, row, at)
    events = [Event(action=Action.REGISTER, actor=actor, role=role, at=at)]
    columns: Row = {"routing": routing_doc(routing)}
    if routing.department:
        data = {"department": routing.department}
        clock = effects.changes(Action.DISPATCH, effects.Situation(at, limit_of(s, row["category"]), data))
        columns.update(clock.columns)
        events.append(Event(action=Action.DISPATCH, actor=actor, role=role, at=at, data={**data, **clock.data}))
    return events, columns, routing
