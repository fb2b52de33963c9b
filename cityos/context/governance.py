"""The hook by which the data resource system governs what a department reads through the NGSI-LD API
(数据按授权使用): the hub knows nothing of catalogues and grants, so it asks a read guard, if one is
installed, what a department's token may see of the entities a read found.

A guard is installed per runtime (``install_read_guard``) by the package that keeps the rules
(``cityos.datahub``); reads by tokens of no department (operators, administrators, the platform) and reads
with no guard installed are answered as stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from cityos.context.store import EntityRow
from cityos.runtime import Runtime


@dataclass(frozen=True)
class ReadCaller:
    """Who reads: the principal, the department its token acts for, the application scenario and purpose
    it names (the ``Cityos-Scenario`` and ``Cityos-Purpose`` headers), and the route it reads through."""

    principal: str
    department: str
    scenario: str | None
    purpose: str | None
    route: str


class ReadGuard(Protocol):
    def govern(
        self, rt: Runtime, tenant: str, caller: ReadCaller, rows: list[EntityRow], *, one: bool
    ) -> list[EntityRow]:
        """The rows as ``caller`` may see them: left out, cut or masked. ``one``: a read of one entity by
        its id, which is refused with an error saying why rather than answered empty."""
        ...


class ReadGuards:
    """The guard a runtime's reads go through (a part of the runtime); none until one is installed."""

    def __init__(self) -> None:
        self.guard: ReadGuard | None = None


def install_read_guard(rt: Runtime, guard: ReadGuard | None) -> None:
    """Let ``guard`` govern this runtime's reads by department tokens from now on (None: no guard)."""
    rt.parts.get(ReadGuards, ReadGuards).guard = guard


def govern_rows(
    rt: Runtime, tenant: str, caller: ReadCaller | None, rows: list[EntityRow], *, one: bool = False
) -> list[EntityRow]:
    """``rows`` as the installed guard lets ``caller`` see them (None: a caller of no department)."""
    guards = rt.parts.find(ReadGuards)
    if caller is None or guards is None or guards.guard is None or not rows:
        return rows
    return guards.guard.govern(rt, tenant, caller, rows, one=one)
