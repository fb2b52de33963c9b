"""Which registrations a discovery query selects (NGSI-LD v1.8, clauses 5.10.2 and 5.12): the entities,
attributes, q/csf, geo-query and temporal query of a Query Context Source Registrations or of a
csourceSubscription, tested in Python against a tenant's registrations (a hub holds tens of them, not
millions)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cityos.context.csources.model import EntityInfo, Registration, RegistrationInfo
from cityos.context.entity import check_entity_id, check_name
from cityos.context.errors import BadRequestData, InvalidRequest
from cityos.context.geo import GeoQuery, matches
from cityos.context.qeval import eval_q, type_matches
from cityos.context.qlang import QExpr, TAnd, TName, TypeExpr, parse_q, parse_scope_q, parse_type_expr
from cityos.context.sqlq import scope_pattern
from cityos.context.temporal.params import TimeRange
from cityos.core.patterns import UnsupportedPattern, compile_pattern
from cityos.core.timefmt import normalize_ts, to_ms


@dataclass
class Discovery:
    """What a query asks of registrations; every member None (or empty) asks nothing of them."""

    ids: tuple[str, ...] = ()
    id_pattern: Any = None  # compiled (RE2): it has search()
    types: TypeExpr | None = None  # names as the query wrote them, expanded with ``expand``
    attrs: frozenset[str] = frozenset()  # IRIs
    q: QExpr | None = None
    csf: QExpr | None = None
    geo: GeoQuery | None = None
    time: TimeRange | None = None
    scope: TypeExpr | None = None  # a scopeQ: scopes joined by ; (and), | or , (or)
    expand: Callable[[str], str] = str

    def selects(self, reg: Registration, made_in: Callable[[str], str]) -> bool:
        """Whether ``reg`` (its own names expanded with ``made_in``) answers this query."""
        asks_entities = self.ids or self.id_pattern is not None or self.types is not None or self.attrs
        if asks_entities and not any(self.selects_info(info) for info in reg.information):
            return False
        if self.q is not None or self.csf is not None:
            props = properties_of(reg.body, made_in)
            if self.q is not None and not eval_q(self.q, props, self.expand):
                return False
            if self.csf is not None and not eval_q(self.csf, props, self.expand):
                return False
        if self.geo is not None and not matches(self.geo, reg.body.get(_geo_member(self.geo))):
            return False
        if self.scope is not None and not _scoped(self.scope, reg.body.get("scope")):
            return False
        return self.time is None or _in_time(self.time, reg.body)

    def selects_info(self, info: RegistrationInfo) -> bool:
        """Whether one RegistrationInfo holds what is asked: an entity the query names (none given: any entity)
        and one of its attributes (none given: every attribute)."""
        if self.attrs and info.attributes and not (self.attrs & info.attributes):
            return False
        if not info.entities or (not self.ids and self.id_pattern is None and self.types is None):
            return True
        return any(self._selects_entity(e) for e in info.entities)

    def _selects_entity(self, e: EntityInfo) -> bool:
        if self.types is not None and not type_matches(self.types, (e.type,), self.expand):
            return False
        if self.ids:
            if e.id is not None and e.id not in self.ids:
                return False
            if e.id is None and e.id_pattern is not None and not any(e.id_pattern.search(i) for i in self.ids):
                return False
        # two patterns may select a common id, which cannot be decided cheaply: they match
        return self.id_pattern is None or e.id is None or self.id_pattern.search(e.id) is not None


def properties_of(body: dict[str, Any], expand: Callable[[str], str]) -> dict[str, list[dict[str, Any]]]:
    """A registration's members as the stored attributes q evaluates: each a Property of the value given, or
    the Property itself when the member is written as one (``{"type": "Property", "value": …}``)."""
    out = {}
    for key, value in body.items():
        if key in ("id", "type", "information", "@context"):
            continue
        written = isinstance(value, dict) and value.get("type") == "Property" and "value" in value
        out[expand(key)] = [value if written else {"type": "Property", "value": value}]
    return out


def _scoped(expr: TypeExpr, value: Any) -> bool:
    """Whether a registration's scope (a string or a list of them) meets a scopeQ (clause 4.19)."""
    scopes = [value] if isinstance(value, str) else [v for v in value if isinstance(v, str)] if value else []
    if isinstance(expr, TName):
        pattern = scope_pattern(expr.name)
        return any(s == expr.name if pattern is None else re.match(pattern, s) is not None for s in scopes)
    if isinstance(expr, TAnd):
        return all(_scoped(e, value) for e in expr.items)
    return any(_scoped(e, value) for e in expr.items)


def _geo_member(gq: GeoQuery) -> str:
    prop = gq.geoproperty
    return prop if prop in ("observationSpace", "operationSpace") else "location"


def _in_time(tr: TimeRange, body: dict[str, Any]) -> bool:
    """timerel on observationInterval (timeproperty observedAt) or managementInterval (createdAt, modifiedAt):
    the interval overlaps the range asked for."""
    member = "observationInterval" if tr.prop == "observedAt" else "managementInterval"
    interval = body.get(member)
    if not isinstance(interval, dict) or "startAt" not in interval:
        return False
    start = to_ms(normalize_ts(interval["startAt"]))
    end = to_ms(normalize_ts(interval["endAt"])) if "endAt" in interval else None
    if tr.end is not None and start >= tr.end:
        return False
    return tr.start is None or end is None or end > tr.start


def parse_discovery(
    tm: Any,
    *,
    ids: str | None = None,
    type_: str | None = None,
    id_pattern: str | None = None,
    attrs: str | None = None,
    q: str | None = None,
    csf: str | None = None,
    scope_q: str | None = None,
    geo: GeoQuery | None = None,
    time: TimeRange | None = None,
) -> Discovery:
    """The query parameters of a discovery (NGSI-LD v1.8, clause 6.8.3.2) validated: BadRequestData naming the
    parameter at fault."""
    d = Discovery(geo=geo, time=time if time is not None and time.bounded else None, expand=tm.expand)
    if ids is not None:
        d.ids = tuple(check_entity_id(i.strip(), "id") for i in ids.split(",") if i.strip())
        if not d.ids:
            raise BadRequestData("id= names no entity: give one id or several, comma-separated")
    if type_ is not None:
        try:
            d.types = parse_type_expr(type_)
        except InvalidRequest as exc:
            raise BadRequestData(f"type: {exc.detail}") from None
    if id_pattern is not None:
        try:
            d.id_pattern = compile_pattern(id_pattern)
        except UnsupportedPattern as exc:
            raise BadRequestData(f"idPattern is not a valid regular expression: {exc}") from None
    if attrs is not None:
        d.attrs = frozenset(tm.expand(check_name(a.strip(), "attrs entry")) for a in attrs.split(",") if a.strip())
    if scope_q is not None:
        try:
            d.scope = parse_scope_q(scope_q)
        except InvalidRequest as exc:
            raise BadRequestData(f"scopeQ: {exc.detail}") from None
    for name, text in (("q", q), ("csf", csf)):
        if text is None:
            continue
        try:
            setattr(d, name, parse_q(text))
        except InvalidRequest as exc:
            raise BadRequestData(f"{name}: {exc.detail}") from None
    return d
