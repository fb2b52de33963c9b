"""The hook by which the data resource system governs what a department reads through the NGSI-LD API
(数据按授权使用): the hub knows nothing of catalogues and grants, so it asks a read guard, if one is
installed, what a department's token may see of the entities a read found.

A guard is installed per runtime (``install_read_guard``) by the package that keeps the rules
(``cityos.datahub``). Reads by tokens of no department (operators, administrators) are answered as stored,
and the guard audits those of governed data all the same; reads with no caller (the platform's own) and
reads with no guard installed are answered as stored.

Every read path of the API goes through it: entity reads and queries (:func:`govern_rows`), the temporal
API (:func:`look`: a :class:`Sight` cuts and masks every instance of the history too), the notifications of
a department's subscriptions, and type and attribute discovery (:func:`unreadable_types`, which queries
also leave out in SQL so that counts and pages hold only what the reader may read).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from cityos.context.store import EntityRow
from cityos.runtime import Runtime

Mask = Callable[[dict[str, Any]], dict[str, Any]]  # an attribute instance -> that instance masked


@dataclass(frozen=True)
class ReadCaller:
    """Who reads: the principal, the department its token acts for (None: a token of no department, which
    reads for the city: an operator or an administrator), the application scenario and purpose it names (the
    ``Cityos-Scenario`` and ``Cityos-Purpose`` headers), and the route it reads through."""

    principal: str
    department: str | None
    scenario: str | None
    purpose: str | None
    route: str


@dataclass(frozen=True)
class Filtered:
    """The attributes (IRIs) a query's filters read: ``compared`` their values (q, a geo-query), ``selected``
    whether an entity has them (attrs), ``matched`` their values for equality with values the query gives
    (``attr=="v"``: a lookup by a value the reader holds, 核验)."""

    compared: frozenset[str] = frozenset()
    selected: frozenset[str] = frozenset()
    matched: frozenset[str] = frozenset()
    looked_up: Mapping[str, str | int | float | bool] = dataclasses.field(default_factory=dict)  # matched: values
    types: frozenset[str] = frozenset()  # the entity types (IRIs) the query names; empty: any


NO_FILTERS = Filtered()


@dataclass(frozen=True)
class Sight:
    """What a caller may see of one entity a read found. ``items`` None: the whole entity, as stored;
    otherwise the attributes (expanded IRIs) it may see, each shown as stored (None) or masked (its
    :data:`Mask`), every other attribute left out. It applies to the current state and to every instance
    of the history alike."""

    row: EntityRow
    items: Mapping[str, Mask | None] | None = None

    def sees(self, attr: str) -> bool:
        return self.items is None or attr in self.items

    def masks(self, attr: str) -> bool:
        return self.items is not None and self.items.get(attr) is not None

    def filters_on(
        self, compared: Iterable[str] = (), selected: Iterable[str] = (), matched: Iterable[str] = ()
    ) -> bool:
        """Whether a filter may read these attributes of the entity for the caller: those it ``compared``
        (q, a geo-query) seen in full; those it ``selected`` (attrs: whether the entity has them) or
        ``matched`` (equality with a value the caller gives: it learns no more than it gave) seen at all. A
        filter on any other would tell the caller what it may not see (a masked ID number by pattern, a
        range halved until it holds one value)."""
        if self.items is None:
            return True
        items = self.items
        seen = all(a in items for a in selected) and all(a in items for a in matched)
        return seen and all(items.get(a, False) is None for a in compared)

    def instances(self, attr: str, instances: list[dict[str, Any]]) -> list[dict[str, Any]] | None:
        """``instances`` of ``attr`` as the caller sees them; None when it may not see the attribute."""
        if self.items is None:
            return instances
        if attr not in self.items:
            return None
        mask = self.items[attr]
        return instances if mask is None else [mask(i) for i in instances]

    def cut(self) -> EntityRow:
        """The row as the caller sees it."""
        if self.items is None:
            return self.row
        attrs = {a: seen for a, insts in self.row.attrs.items() if (seen := self.instances(a, insts)) is not None}
        return dataclasses.replace(self.row, attrs=attrs)


class ReadGuard(Protocol):
    def look(self, rt: Runtime, tenant: str, caller: ReadCaller, rows: list[EntityRow], *, one: bool) -> list[Sight]:
        """What ``caller`` may see of ``rows`` (those it may not read left out), the read audited. ``one``: a
        read of one entity by its id, which is refused with an error saying why rather than answered empty."""
        ...

    def unreadable(
        self, rt: Runtime, tenant: str, caller: ReadCaller, filters: Filtered = NO_FILTERS
    ) -> frozenset[str]:
        """The entity types (IRIs) of which ``caller`` may read nothing, or not the attributes ``filters`` read
        as they need (see :meth:`Sight.filters_on`): queries and discovery leave them out."""
        ...

    def governs(self, rt: Runtime, tenant: str, types: Iterable[str]) -> bool:
        """Whether entities of ``types`` (IRIs) are governed data (a read of them is audited)."""
        ...

    def missed(self, rt: Runtime, tenant: str, caller: ReadCaller, filters: Filtered) -> None:
        """A query that found nothing looked up governed data by the values in ``filters.looked_up``:
        audit the lookup all the same (who looked a person up is part of who used their data)."""
        ...


class ReadGuards:
    """The guard a runtime's reads go through (a part of the runtime); none until one is installed."""

    def __init__(self) -> None:
        self.guard: ReadGuard | None = None


def install_read_guard(rt: Runtime, guard: ReadGuard | None) -> None:
    """Let ``guard`` govern this runtime's reads by department tokens from now on (None: no guard)."""
    rt.parts.get(ReadGuards, ReadGuards).guard = guard


def _guard(rt: Runtime, caller: ReadCaller | None) -> ReadGuard | None:
    guards = rt.parts.find(ReadGuards)
    if caller is None or guards is None:
        return None
    return guards.guard


def look(
    rt: Runtime, tenant: str, caller: ReadCaller | None, rows: list[EntityRow], *, one: bool = False
) -> list[Sight]:
    """What ``caller`` may see of ``rows`` (None: the platform's own read, which sees them whole)."""
    guard = _guard(rt, caller)
    if guard is None or caller is None or not rows:
        return [Sight(r) for r in rows]
    return guard.look(rt, tenant, caller, rows, one=one)


def govern_rows(
    rt: Runtime, tenant: str, caller: ReadCaller | None, rows: list[EntityRow], *, one: bool = False
) -> list[EntityRow]:
    """``rows`` as the installed guard lets ``caller`` see them (None: the platform's own read)."""
    if _guard(rt, caller) is None or not rows:
        return rows
    return [s.cut() for s in look(rt, tenant, caller, rows, one=one)]


def governs(rt: Runtime, tenant: str, types: Iterable[str]) -> bool:
    """Whether the installed guard governs entities of ``types`` (IRIs): False with no guard."""
    guards = rt.parts.find(ReadGuards)
    return guards is not None and guards.guard is not None and guards.guard.governs(rt, tenant, types)


def missed(rt: Runtime, tenant: str, caller: ReadCaller | None, filters: Filtered) -> None:
    """Tell the guard that a query with ``filters`` found nothing, so that a lookup by value is audited."""
    guard = _guard(rt, caller)
    if guard is not None and caller is not None and filters.looked_up:
        guard.missed(rt, tenant, caller, filters)


def unreadable_types(
    rt: Runtime, tenant: str, caller: ReadCaller | None, filters: Filtered = NO_FILTERS
) -> frozenset[str]:
    """The entity types (IRIs) of which ``caller`` may read nothing, or not the attributes ``filters`` read
    as they need (none for a caller of no department): a query leaves them out."""
    guard = _guard(rt, caller)
    if guard is None or caller is None or caller.department is None:
        return frozenset()  # the city may read every entry
    return guard.unreadable(rt, tenant, caller, filters)
