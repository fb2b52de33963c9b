"""The rules on the NGSI-LD API itself: the read guard the data hub asks what a department's token may see
of the entities a read found (cityos.context.governance).

An entity whose type backs a catalogue entry (``backing.entityTypes``) is that entry's record, and is read
as a dataset read is (cityos.datahub.datasets): refused, cut to the items the reader may see, masked, and
audited. Entities of types no entry names are not governed data and are answered as stored. A department
reading its own entries (their provider) sees them whole, attributes the catalogue does not list
included; any other department sees only the listed items it may see. A token of no department (an
operator's, an administrator's) reads for the city: entities as stored, its reads of governed data audited
as a department's are (``Reader.city``).
"""

from __future__ import annotations

import dataclasses
import functools
import threading
import time
from datetime import UTC, datetime
from typing import Any

from cityos import context as hub
from cityos.datahub.audit import append
from cityos.datahub.catalogue import backing_index
from cityos.datahub.datasets import Reader, access_of, audit_read, refusal
from cityos.datahub.masking import mask_attribute
from cityos.datahub.models import Access, CatalogueEntry
from cityos.datahub.objections import flag_rows
from cityos.runtime import Runtime

INDEX_SECONDS = 5.0  # how long the type -> entries index is kept: a catalogue change is seen this much later


class CatalogueGuard:
    """The read guard of a runtime, keeping the catalogue's type index a few seconds per tenant."""

    def __init__(self) -> None:
        self._index: dict[str, tuple[float, dict[str, tuple[CatalogueEntry, ...]]]] = {}
        self._lock = threading.Lock()

    def _entries_by_type(self, rt: Runtime, tenant: str) -> dict[str, tuple[CatalogueEntry, ...]]:
        with self._lock:
            kept = self._index.get(tenant)
        if kept is not None and time.monotonic() - kept[0] < INDEX_SECONDS:
            return kept[1]
        index = backing_index(rt, tenant)
        with self._lock:
            self._index[tenant] = (time.monotonic(), index)
        return index

    def look(
        self, rt: Runtime, tenant: str, caller: hub.ReadCaller, rows: list[hub.EntityRow], *, one: bool
    ) -> list[hub.Sight]:
        index = self._entries_by_type(rt, tenant)
        if not index:
            return [hub.Sight(r) for r in rows]
        tm = hub.core_term_map()
        reader = _reader(caller)
        now = datetime.now(UTC)
        decided: dict[str, Access] = {}
        read: dict[str, tuple[CatalogueEntry, list[hub.EntityRow]]] = {}
        out = []
        for row in rows:
            entry = _entry_of(index, row.types, tm)
            if entry is None:
                out.append(hub.Sight(row))
                continue
            if entry.code not in decided:
                decided[entry.code] = access_of(rt, tenant, entry, reader, now)
            access = decided[entry.code]
            if not access.allowed:
                if one:
                    raise refusal(entry, access)
                continue  # a query answers what the reader may read; the rest is left out
            # the provider sees its own records whole, and so does the city on this API: the hub's own clients
            # (the dashboard, a vendor's system under an operator's token) read entities as stored; audited
            whole = caller.department is None or caller.department == entry.provider
            out.append(hub.Sight(row) if whole else hub.Sight(row, _items(access, tm)))
            read.setdefault(entry.code, (entry, []))[1].append(row)
        if read:
            audited = [
                audit_read(entry, decided[code], reader, [_values(r, tm) for r in found], caller.route)
                for code, (entry, found) in read.items()
            ]
            append(rt, tenant, audited)
        if not read:
            return out
        # the items with an open objection are marked disputed (a sub-property each instance carries)
        flagged = flag_rows(rt, tenant, [s.row for s in out])
        return [s if r is s.row else dataclasses.replace(s, row=r) for s, r in zip(out, flagged, strict=True)]

    def unreadable(
        self, rt: Runtime, tenant: str, caller: hub.ReadCaller, filters: hub.Filtered = hub.NO_FILTERS
    ) -> frozenset[str]:
        index = self._entries_by_type(rt, tenant)
        if not index:
            return frozenset()
        tm = hub.core_term_map()
        reader = _reader(caller)
        now = datetime.now(UTC)
        decided: dict[str, bool] = {}
        out = set()
        for name, entries in index.items():
            entry = entries[0]
            if entry.code not in decided:
                access = access_of(rt, tenant, entry, reader, now)
                whole = caller.department == entry.provider
                sight = hub.Sight(_NO_ROW, None if whole else _items(access, tm))
                decided[entry.code] = access.allowed and sight.filters_on(
                    filters.compared, filters.selected, filters.matched
                )
            if not decided[entry.code]:
                out.add(tm.expand(name))
        return frozenset(out)


_NO_ROW = hub.EntityRow(None, "", [], None, {}, "", "")


def _reader(caller: hub.ReadCaller) -> Reader:
    return Reader(caller.principal, caller.department, caller.department is None, caller.scenario, caller.purpose)


def _entry_of(index: dict[str, tuple[CatalogueEntry, ...]], types: list[str], tm: hub.TermMap) -> CatalogueEntry | None:
    """The entry whose records an entity of ``types`` is (the first type that backs one decides)."""
    return next((e for t in types for e in index.get(tm.compact(t), ())), None)


def _values(row: hub.EntityRow, tm: hub.TermMap) -> dict[str, Any]:
    return hub.key_values(row.id, row.types, row.attrs, tm)


def _items(access: Access, tm: hub.TermMap) -> dict[str, hub.Mask | None]:
    """The attributes (IRIs) ``access`` shows: as stored, or masked by their item's kind."""
    items: dict[str, hub.Mask | None] = {tm.expand(name): None for name in access.shown}
    for name, kind in access.masked.items():
        items[tm.expand(name)] = functools.partial(mask_attribute, kind)
    return items


class GuardRunner:
    """Installs the guard on the runtime while the process runs (a runner of every process)."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt

    def start(self) -> None:
        hub.install_read_guard(self.rt, CatalogueGuard())

    def close(self) -> None:
        hub.install_read_guard(self.rt, None)
