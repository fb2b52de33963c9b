"""Cases that open themselves: from vital-sign warnings and from NGSI-LD ``Alert`` entities.

Each is opened once: its origin (``warning:<id>``, ``alert:<entity id>``) is unique among a tenant's
cases, so a warning that escalates, or an alert seen again, does not open a second case.
"""

from __future__ import annotations

from typing import Any

from shapely.geometry import shape

from cityos import vitals as vitals
from cityos.cases import service
from cityos.cases.schemas import NewCase, Reported
from cityos.cases.settings import WarningSource, settings
from cityos.cases.workflow import Role
from cityos.context import core_term_map
from cityos.core.places import place_of
from cityos.runtime import Runtime
from cityos.vitals import LEVEL_NAMES

Attrs = dict[str, list[dict[str, Any]]]


def _value(attrs: Attrs, term: str) -> Any:
    inst = attrs.get(core_term_map().expand(term))
    return inst[0].get("value") if inst else None


def _name(attrs: Attrs) -> str | None:
    """An entity's name, in Chinese first: a plain Property, or a LanguageProperty's language map."""
    inst = attrs.get(core_term_map().expand("name"))
    if not inst:
        return None
    value = inst[0].get("value", inst[0].get("languageMap"))
    if isinstance(value, dict):
        value = value.get("zh") or value.get("zh-CN") or value.get("en") or next(iter(value.values()), None)
    return str(value) if value else None


def _point(attrs: Attrs) -> tuple[float, float] | None:
    """The entity's location as (lon, lat): a point, or the centroid of an area."""
    geo = _value(attrs, "location")
    if not isinstance(geo, dict) or "type" not in geo:
        return None
    try:
        c = shape(geo).centroid
    except (ValueError, TypeError, AttributeError):
        return None
    return (float(c.x), float(c.y)) if not c.is_empty else None


def _rule_for(rt: Runtime, tenant: str, indicator: str, level: int) -> WarningSource | None:
    cat = vitals.catalogue(rt, tenant)
    ind = cat.by_id.get(indicator)
    for rule in settings(rt).from_warnings:
        applies = rule.indicator == indicator or (ind is not None and rule.vitals_category == ind.category)
        if applies:
            return rule if level >= rule.min_level else None
    return None


def case_from_warning(rt: Runtime, tenant: str, warning: dict[str, Any]) -> Reported | None:
    """The case a warning opens (``warning.raised`` / ``warning.escalated`` data), if its indicator is one
    the settings name and its level reaches theirs; None otherwise."""
    level = int(warning.get("newLevel") or 0)
    rule = _rule_for(rt, tenant, str(warning.get("indicator")), level)
    if rule is None:
        return None
    ind = vitals.catalogue(rt, tenant).by_id[warning["indicator"]]
    scope = str(warning.get("scope"))
    attrs = vitals.entity_attrs(rt, tenant, scope) or {} if scope.startswith("urn:") else {}
    place = place_of(attrs)
    point = _point(attrs)
    scope_name = _name(attrs) or scope
    colour = LEVEL_NAMES[level][1]
    value = warning.get("value")
    shown = f"{value:.3g} {ind.unit}" if isinstance(value, int | float) else "—"
    text = (
        f"【体征预警】{ind.name.zh}：{scope_name} 达到{colour}色预警（{LEVEL_NAMES[level][2]}级），当前值 {shown}。"
        f" / Vital-sign warning: {ind.name.en} at {scope_name} reached {LEVEL_NAMES[level][0]}, value {shown}."
    )
    kind = scope.split(":")[2] if scope.startswith("urn:ngsi-ld:") else ""
    new = NewCase(
        source="sensor",
        text=text,
        category=rule.category,
        lon=point[0] if point else None,
        lat=point[1] if point else None,
        address=None if point else str(scope_name),
        unit=scope if kind == "ManagementUnit" else place.unit,
        grid=scope if kind == "Grid" else place.grid,
        street=scope if kind == "Street" else place.street,
        priority="urgent" if level >= 3 else None,
        origin=f"warning:{warning.get('warningId')}",
    )
    return service.report(rt, tenant, new, "vitals", Role.SYSTEM)


def is_alert(types: list[str]) -> bool:
    return core_term_map().expand("Alert") in types


def case_from_alert(rt: Runtime, tenant: str, entity_id: str, attrs: Attrs) -> Reported | None:
    """The case an ``Alert`` entity opens: its subCategory mapped by the settings, else its description
    classified. An alert without a place or a description opens none."""
    point = _point(attrs)
    description = _value(attrs, "description")
    sub = _value(attrs, "subCategory")
    if point is None or not (description or sub):
        return None
    category = settings(rt).from_alerts.get(str(sub)) if sub else None
    severity = _value(attrs, "severity")
    text = f"【告警】{description or sub}（{_value(attrs, 'category') or 'alert'} / {sub or '-'}）"
    new = NewCase(
        source="alert",
        text=text[:4000],
        category=category,
        lon=point[0],
        lat=point[1],
        priority="urgent" if severity in ("critical", "high") else None,
        origin=f"alert:{entity_id}",
    )
    return service.report(rt, tenant, new, str(_value(attrs, "alertSource") or "alert"), Role.SYSTEM)
