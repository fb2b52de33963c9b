"""The streaming engine: observations of entities in, indicator values and changes of warning level out.

Free of the bus, the clock and SQL: the runner (``cityos.vitals.runner``) feeds it entity events and
the time, and stores and publishes what it returns. Each base indicator keeps one window per scope
group (a unit, a grid, a street, the district, or its polygon); when a window yields a value, the
derived indicators that read it are evaluated for the same group (inputs grouped by the district
count for every group), and every indicator with thresholds steps its warning level.

A value from a window that is still filling (it has not yet covered its span since the engine's
first observation of the group, see :mod:`cityos.vitals.windows`) carries how full it is and steps
no level; a derived value is as full as its least full input.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from shapely import prepared
from shapely.geometry import Point, shape

from cityos.context import core_term_map, eval_q, parse_q
from cityos.core.places import DISTRICT, Place, place_of
from cityos.core.timefmt import to_ms
from cityos.vitals.definitions import Catalogue, Indicator
from cityos.vitals.levels import Change, LevelState, step
from cityos.vitals.windows import Emission, Observation, WindowState

Attrs = dict[str, list[dict[str, Any]]]
POLYGON = "polygon"


@dataclass(frozen=True)
class IndicatorValue:
    indicator: str
    scope: str  # the group: a unit, grid or street id, "district" or "polygon"
    at_ms: int
    value: float | None
    start_ms: int | None  # the window's start (None for derived values)
    level: int  # the warning level after this value (0 without thresholds)
    filling: float | None = None  # the window is still filling: how full it is (0..1); None: full


@dataclass(frozen=True)
class LevelChange:
    indicator: str
    scope: str
    change: Change
    value: float | None


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, int | float):
        return float(value)
    return None


class Engine:
    """Indicators of one tenant. ``load`` gives an entity's current attributes (None if it is gone)."""

    def __init__(self, catalogue: Catalogue, load: Callable[[str], Attrs | None]) -> None:
        self.catalogue = catalogue
        self._load = load
        tm = core_term_map()
        self._expand = tm.expand
        # (entity type IRI, attribute IRI) -> the base indicators aggregating it
        self.sources: dict[tuple[str, str], list[Indicator]] = {}
        self._q: dict[str, Any] = {}
        self._polygons: dict[str, Any] = {}
        self.readers: dict[str, list[str]] = {}  # indicator -> derived indicators reading it, in order
        for ind_id in catalogue.order:
            ind = catalogue.by_id[ind_id]
            if ind.source is not None:
                key = (tm.expand(ind.source.entityType), tm.expand(ind.source.attr))
                self.sources.setdefault(key, []).append(ind)
                if ind.source.q:
                    self._q[ind.id] = parse_q(ind.source.q)
            if ind.scope.level == POLYGON and ind.scope.polygon:
                self._polygons[ind.id] = prepared.prep(shape(ind.scope.polygon))
            for name in catalogue.inputs_of(ind_id):
                self.readers.setdefault(name, []).append(ind_id)
        self.types = {t for t, _ in self.sources}
        self.windows: dict[tuple[str, str], WindowState] = {}
        self.levels: dict[tuple[str, str], LevelState] = {}
        self.latest: dict[tuple[str, str], float | None] = {}
        self.filling: dict[tuple[str, str], float | None] = {}  # how full the latest value's window was
        self._covered: dict[tuple[str, str], int] = {}  # (type IRI, attr IRI) -> seen everything since (ms)
        self.places: dict[str, Place] = {}
        self.quiet = False  # True while refilling windows after a restart: values, but no level steps
        self._static: dict[str, Attrs] = {}  # attributes q filters read, per entity, kept current
        self._rank = {ind_id: n for n, ind_id in enumerate(catalogue.order)}
        self._groups: dict[str, set[str]] = {}  # indicator -> the groups it has values for
        # what the next flush computes: sliding windows that took observations, derived values due
        self._dirty: dict[tuple[str, str], Indicator] = {}
        self._derived_due: dict[int, dict[str, int]] = {}  # rank of a derived indicator -> group -> at
        self._values: list[IndicatorValue] = []
        self._changes: list[LevelChange] = []

    # --- observations in -------------------------------------------------------------------------------

    def observe(
        self, entity_id: str, types: Iterable[str], attrs: Attrs, *, complete: bool = False
    ) -> tuple[list[IndicatorValue], list[LevelChange]]:
        """An entity's new attribute instances (an event's); ``complete``: ``attrs`` are all of them.
        The values and level changes they make (``take`` then ``flush``)."""
        self.take(entity_id, types, attrs, complete=complete)
        return self.flush()

    def take(
        self, entity_id: str, types: Iterable[str], attrs: Attrs, *, complete: bool = False, times: int = 1
    ) -> None:
        """Take an event's observations into the windows. A sliding window's value is computed at the
        next :meth:`flush`, once however many observations it took (the runner flushes once a round);
        a tumbling window that an observation closes yields its value now. ``times``: how many equal
        reports each instance stands for (a replay's tally of the devices of a place that reported the
        same; counts count it so often, the other aggregates once)."""
        wanted = [(t, a) for t in types if t in self.types for a in attrs if (t, a) in self.sources]
        if not wanted:
            return
        place = self._place(entity_id, attrs if complete else None)
        view = self._view(entity_id, attrs)
        for key in wanted:
            seen = [  # each instance as an observation, made once for all the indicators over it
                Observation(to_ms(at), entity_id, _number(inst.get("value")), times)
                for inst in attrs[key[1]]
                if (at := inst.get("observedAt") or inst.get("modifiedAt"))
            ]
            for ind in self.sources[key]:
                group = self._group(ind, place)
                if group is None:
                    continue
                q = self._q.get(ind.id)
                matched = q is None or eval_q(q, view, self._expand)
                if not matched and ind.aggregation not in ("count", "distinct"):
                    continue  # counted 0 times is a value too; other aggregates have nothing to say
                window = self._window(ind, group)
                for o in seen:
                    if window.kind == "tumbling":
                        self._emitted(ind, group, window.add(o) if matched else window.touch(o.at_ms))
                    elif not matched:  # time moves on: a count of matches has a value (0) even before one
                        window.advance(max(window.now_ms, o.at_ms))
                        self._dirty[(ind.id, group)] = ind
                    elif window.take(o):
                        self._dirty[(ind.id, group)] = ind

    def flush(self) -> tuple[list[IndicatorValue], list[LevelChange]]:
        """The values of the sliding windows that took observations since the last flush, each once,
        and of the derived indicators reading what changed (each evaluated once per group); with the
        level changes they make. Returns them and everything else yielded since the last flush."""
        for (ind_id, group), ind in self._dirty.items():
            self._emitted(ind, group, [self.windows[(ind_id, group)].emission()])
        self._dirty.clear()
        for rank in range(len(self.catalogue.order)):  # a derived indicator ranks after its inputs
            due = self._derived_due.pop(rank, None)
            if not due:
                continue
            reader = self.catalogue.by_id[self.catalogue.order[rank]]
            for group, at_ms in due.items():
                value, filling = self._derive(reader, group)
                self._value(reader, group, at_ms, value, None, filling)
        values, changes = self._values, self._changes
        self._values, self._changes = [], []
        return values, changes

    def prime(self, entity_id: str, attrs: Attrs) -> None:
        """Learn where an entity is from all its attributes (saves loading it on its first event)."""
        self._place(entity_id, attrs)

    def hold(self, indicator: str, group: str, level: int) -> None:
        """Start from a level held already (an active warning stored before a restart)."""
        self.levels[(indicator, group)] = LevelState(level)

    def cover(self, type_iri: str, attr_iri: str, since_ms: int) -> None:
        """The engine has seen every observation of this attribute since ``since_ms`` (a restart refilled
        its windows from a history that goes back that far): windows over it are full from then on."""
        key = (type_iri, attr_iri)
        self._covered[key] = min(since_ms, self._covered.get(key, since_ms))
        for ind in self.sources.get(key, ()):
            for (ind_id, _group), w in self.windows.items():
                if ind_id == ind.id:
                    w.cover(since_ms)

    def spans(self) -> dict[tuple[str, str], int]:
        """(entity type IRI, attribute IRI) -> the longest window over it, in ms."""
        return {
            key: max(int(i.window.duration.total_seconds() * 1000) for i in inds if i.window is not None)
            for key, inds in self.sources.items()
        }

    def settle(self, now_ms: int) -> tuple[list[IndicatorValue], list[LevelChange]]:
        """After refilling the windows quietly: every sliding window's value now, stepping levels."""
        self.flush()
        self.quiet = False
        for (ind_id, group), window in list(self.windows.items()):
            if window.kind == "sliding":
                self._emitted(
                    self.catalogue.by_id[ind_id], group, window.advance(max(window.now_ms, now_ms), force=True)
                )
        return self.flush()

    def advance(self, now_ms: int) -> tuple[list[IndicatorValue], list[LevelChange]]:
        """Let time pass: sliding windows drop what left them, tumbling windows close."""
        for (ind_id, group), window in list(self.windows.items()):
            self._emitted(self.catalogue.by_id[ind_id], group, window.advance(now_ms))
        return self.flush()

    # --- values out ---------------------------------------------------------------------------------------

    def _emitted(self, ind: Indicator, group: str, emissions: list[Emission]) -> None:
        for e in emissions:
            self._value(ind, group, e.at_ms, e.value, e.start_ms, e.filling)

    def _value(
        self, ind: Indicator, group: str, at_ms: int, value: float | None, start_ms: int | None, filling: float | None
    ) -> None:
        key = (ind.id, group)
        self.latest[key] = value
        self.filling[key] = filling
        self._groups.setdefault(ind.id, set()).add(group)
        held = self.levels.get(key)
        level = held.level if held is not None else 0
        if ind.thresholds is not None and not self.quiet and filling is None:  # a filling window says nothing
            state, change = step(held or LevelState(), value, at_ms, ind.thresholds)
            self.levels[key] = state
            level = state.level
            if change is not None:
                self._changes.append(LevelChange(ind.id, group, change, value))
        self._values.append(IndicatorValue(ind.id, group, at_ms, value, start_ms, level, filling))
        for reader_id in self.readers.get(ind.id, ()):
            reader = self.catalogue.by_id[reader_id]
            due = self._derived_due.setdefault(self._rank[reader_id], {})
            groups = [group] if reader.scope.level == ind.scope.level else self._groups_of(reader)
            for g in groups:
                due[g] = max(at_ms, due.get(g, at_ms))

    def _derive(self, ind: Indicator, group: str) -> tuple[float | None, float | None]:
        """The derived value and how full it is: as full as its least full input (None: all are full)."""
        inputs: dict[str, float | None] = dict(ind.constants)
        fills: list[float] = []
        for name in self.catalogue.inputs_of(ind.id):
            level = self.catalogue.by_id[name].scope.level
            key = (name, group if level == ind.scope.level else DISTRICT)
            inputs[name] = self.latest.get(key)
            fill = self.filling.get(key, 0.0) if key in self.latest else 0.0
            if fill is not None:
                fills.append(fill)
        return self.catalogue.formulas[ind.id].evaluate(inputs), min(fills, default=None)

    def _groups_of(self, ind: Indicator) -> list[str]:
        """The groups a derived indicator has values for so far (a district-wide input changed)."""
        return sorted(self._groups.get(ind.id, ())) or ([DISTRICT] if ind.scope.level == DISTRICT else [])

    # --- where and what ----------------------------------------------------------------------------------

    def _window(self, ind: Indicator, group: str) -> WindowState:
        w = self.windows.get((ind.id, group))
        if w is None:
            assert ind.window is not None and ind.aggregation is not None
            duration_ms = int(ind.window.duration.total_seconds() * 1000)
            w = self.windows[(ind.id, group)] = WindowState(ind.window.kind, duration_ms, ind.aggregation)
            assert ind.source is not None
            since = self._covered.get((self._expand(ind.source.entityType), self._expand(ind.source.attr)))
            if since is not None:
                w.cover(since)
        return w

    def _group(self, ind: Indicator, place: Place) -> str | None:
        level = ind.scope.level
        if level == POLYGON:
            poly = self._polygons.get(ind.id)
            return POLYGON if poly is not None and place.point and poly.contains(Point(place.point)) else None
        key = place.key(level)
        if key is None or (ind.scope.ids is not None and key not in ind.scope.ids):
            return None
        return key

    def _place(self, entity_id: str, attrs: Attrs | None) -> Place:
        found = self.places.get(entity_id)
        if found is None:
            full = attrs if attrs is not None else self._load(entity_id)
            found = self.places[entity_id] = place_of(full or {})
            if self._q:  # q filters may read attributes an update does not carry
                # a copy: ``attrs`` is an event's, which other consumers of the bus read after us, and _view
                # writes later updates into what is kept here
                self._static[entity_id] = dict(full or {})
        return found

    def _view(self, entity_id: str, attrs: Attrs) -> Attrs:
        """The entity's attributes as q filters see them: what was loaded, with the event's on top."""
        if not self._q:
            return attrs
        current = self._static.setdefault(entity_id, {})
        current.update(attrs)
        return current
