"""Where a case goes and by when: the routing rules and the category's time limit applied to a case."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from cityos.cases import effects
from cityos.cases.errors import CaseInvalid
from cityos.cases.routing import STREET_PREFIX, Routing, route
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


STREET_OFFICE = "street-office"  # the generic sub-district office a rule or category names


def street_office(street: str | None) -> str | None:
    """The department code of the sub-district (街道) office of ``street``: ``street-office-<key>``."""
    key = street.removeprefix(STREET_PREFIX) if street and street.startswith(STREET_PREFIX) else ""
    key = re.sub(r"[^a-z0-9]+", "-", key.lower()).strip("-")
    return f"{STREET_OFFICE}-{key}" if key else None


def _location(place: Mapping[str, Any]) -> tuple[float, float] | None:
    """The case's own point, else the point its address was placed at (so area rules match it too)."""
    if place.get("lon") is not None:
        return (place["lon"], place["lat"])
    point = (place.get("placement") or {}).get("point")
    return (point[0], point[1]) if point else None


def _owning_office(r: Routing, street: str | None) -> Routing:
    """A case the rules give to "the street office" goes to the office of the street that owns its grid."""
    office = street_office(street) if r.department == STREET_OFFICE else None
    if office is None:
        return r
    return dataclasses.replace(
        r,
        department=office,
        explanation=f"{r.explanation}; the office of {street} → {office}",
        explanation_zh=f"{r.explanation_zh}；所属街道 {street} → {office}",
    )


def routing_of(s: CasesSettings, place: Mapping[str, Any], at: datetime, trace: bool = False) -> Routing:
    """Who the routing rules give a case of ``place["category"]`` at its place (lon, lat, grid, street, and
    the point its address was placed at); "the street office" is the office of the case's street."""
    sub = s.taxonomy.sub(place["category"])
    return _owning_office(_routed(s, place, at, trace, sub.main, sub.department), place.get("street"))


def _routed(
    s: CasesSettings, place: Mapping[str, Any], at: datetime, trace: bool, main: str, default: str | None
) -> Routing:
    return route(
        s.rules,
        category=place["category"],
        main_category=main,
        location=_location(place),
        grid=place.get("grid"),
        street=place.get("street"),
        at=at,
        default_department=default,
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
