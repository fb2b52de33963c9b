"""The rules on the NGSI-LD API itself: the read guard the data hub asks what a department's token may see
of the entities a read found (cityos.context.governance).

An entity whose type backs a catalogue entry (``backing.entityTypes``) is that entry's record, and is read
as a dataset read is (cityos.datahub.datasets): refused, cut to the items the reader may see, masked, and
audited. Entities of types no entry names are not governed data and are answered as stored. A department
reading its own entries (their provider) sees them whole, attributes the catalogue does not list
included; any other department sees only the listed items it may see. A base registry's entity gathers the
items of many entries (a ``Person`` carries public security's identity and health's date of death): an
attribute another entry governs (the one source of its key, ``person.diedOn``) is seen, by the provider
and by any other reader alike, only as that entry's access shows its item, and the read is audited under
that entry too. A token of no department (an operator's, an administrator's) reads for the city: entities
as stored, its reads of governed data audited as a department's are (``Reader.city``).
"""

from __future__ import annotations

import dataclasses
import functools
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cityos import context as hub
from cityos.datahub.audit import AuditRead, append
from cityos.datahub.catalogue import attribute_governors, backing_index
from cityos.datahub.datasets import Reader, access_of, audit_read, lookup_audit, refusal, subject_items
from cityos.datahub.masking import mask_attribute
from cityos.datahub.models import Access, CatalogueEntry
from cityos.datahub.objections import flag_rows
from cityos.datahub.pages import page_subjects
from cityos.runtime import Runtime

INDEX_SECONDS = 5.0  # how long the type -> entries index is kept: a catalogue change is seen this much later


@dataclass(frozen=True)
class _Index:
    """The catalogue as the guard needs it: the entries each entity type backs, and for each backing entry the
    attributes of its entities another entry governs (a base registry's entities gather many entries' items)."""

    by_type: dict[str, tuple[CatalogueEntry, ...]]
    governors: dict[str, dict[str, tuple[CatalogueEntry, str]]]


class CatalogueGuard:
    """The read guard of a runtime, keeping the catalogue's type index a few seconds per tenant."""

    def __init__(self) -> None:
        self._index: dict[str, tuple[float, _Index]] = {}
        self._lock = threading.Lock()

    def _catalogue(self, rt: Runtime, tenant: str) -> _Index:
        with self._lock:
            kept = self._index.get(tenant)
        if kept is not None and time.monotonic() - kept[0] < INDEX_SECONDS:
            return kept[1]
        index = _Index(backing_index(rt, tenant), attribute_governors(rt, tenant))
        with self._lock:
            self._index[tenant] = (time.monotonic(), index)
        return index

    def look(
        self, rt: Runtime, tenant: str, caller: hub.ReadCaller, rows: list[hub.EntityRow], *, one: bool
    ) -> list[hub.Sight]:
        index = self._catalogue(rt, tenant)
        if not index.by_type:
            return [hub.Sight(r) for r in rows]
        rules = _Rules(rt, tenant, caller, index)
        read: dict[str, tuple[CatalogueEntry, list[hub.EntityRow]]] = {}
        out = []
        for row in rows:
            entry = _entry_of(index.by_type, row.types, rules.tm)
            if entry is None:
                out.append(hub.Sight(row))
                continue
            access = rules.access(entry)
            if not access.allowed:
                if one:
                    raise refusal(entry, access)
                continue  # a query answers what the reader may read; the rest is left out
            sight = rules.sight(entry, row)
            out.append(sight)
            read.setdefault(entry.code, (entry, []))[1].append(row)
        if not read:
            return out
        append(rt, tenant, rules.audited(read))
        # the items with an open objection are marked disputed (a sub-property each instance carries)
        flagged = flag_rows(rt, tenant, [s.row for s in out])
        return [s if r is s.row else dataclasses.replace(s, row=r) for s, r in zip(out, flagged, strict=True)]

    def unreadable(
        self, rt: Runtime, tenant: str, caller: hub.ReadCaller, filters: hub.Filtered = hub.NO_FILTERS
    ) -> frozenset[str]:
        index = self._catalogue(rt, tenant)
        if not index.by_type:
            return frozenset()
        rules = _Rules(rt, tenant, caller, index)
        decided: dict[str, bool] = {}
        out = set()
        for name, entries in index.by_type.items():
            entry = entries[0]
            if entry.code not in decided:
                decided[entry.code] = rules.readable(entry, filters)
            if not decided[entry.code]:
                out.add(rules.tm.expand(name))
        return frozenset(out)

    def governs(self, rt: Runtime, tenant: str, types: Iterable[str]) -> bool:
        # asked per notification of a city subscription: the index kept is good enough (refreshed in the
        # background of other reads), so the notify path reads the catalogue only the first time
        with self._lock:
            kept = self._index.get(tenant)
        index = kept[1] if kept is not None else self._catalogue(rt, tenant)
        return index.by_type != {} and _entry_of(index.by_type, list(types), hub.core_term_map()) is not None

    def missed(self, rt: Runtime, tenant: str, caller: hub.ReadCaller, filters: hub.Filtered) -> None:
        index = self._catalogue(rt, tenant)
        rules = _Rules(rt, tenant, caller, index)
        values = {rules.tm.compact(a): v for a, v in filters.looked_up.items()}
        done: set[str] = set()
        audited = []
        for name, entries in index.by_type.items():
            entry = entries[0]
            if entry.code in done or (filters.types and rules.tm.expand(name) not in filters.types):
                continue
            done.add(entry.code)
            if rules.readable(entry, filters):  # else the query left the type out: nothing of it was consulted
                record = lookup_audit(entry, rules.access(entry), rules.reader, values, caller.route)
                audited += [record] if record is not None else []
        if audited:
            append(rt, tenant, audited)


class _Rules:
    """One read's decisions: each entry's access for the caller (looked up once), and what it sees of a
    record of an entry. Whole for the city (a token of no department) and, but for the attributes another
    entry governs, for the entry's provider; for any other department, the items its access shows. An
    attribute another entry governs is seen as that entry's access shows its item, by provider and reader
    alike."""

    def __init__(self, rt: Runtime, tenant: str, caller: hub.ReadCaller, index: _Index) -> None:
        self.rt, self.tenant, self.caller, self.index = rt, tenant, caller, index
        self.tm = hub.core_term_map()
        self.reader = _reader(caller)
        self.now = datetime.now(UTC)
        self._access: dict[str, Access] = {}
        self._foreign: dict[str, tuple[frozenset[str], dict[str, hub.Mask | None], dict[str, str]]] = {}

    def access(self, entry: CatalogueEntry) -> Access:
        if entry.code not in self._access:
            self._access[entry.code] = access_of(self.rt, self.tenant, entry, self.reader, self.now)
        return self._access[entry.code]

    def foreign(self, entry: CatalogueEntry) -> tuple[frozenset[str], dict[str, hub.Mask | None], dict[str, str]]:
        """The IRIs of the attributes other entries govern, those of them the caller may see (as stored or
        masked), and the entry governing each one seen (by IRI)."""
        if entry.code not in self._foreign:
            governed = self.index.governors.get(entry.code, {})
            seen: dict[str, hub.Mask | None] = {}
            by: dict[str, str] = {}
            for attribute, (governor, item) in governed.items():
                access = self.access(governor)
                if access.allowed and item in access.shown:
                    iri = self.tm.expand(attribute)
                    kind = access.masked.get(item)
                    seen[iri] = None if kind is None else functools.partial(mask_attribute, kind)
                    by[iri] = governor.code
            iris = frozenset(self.tm.expand(a) for a in governed)
            self._foreign[entry.code] = (iris, seen, by)
        return self._foreign[entry.code]

    def readable(self, entry: CatalogueEntry, filters: hub.Filtered) -> bool:
        """Whether a query with ``filters`` may read records of ``entry`` (it may read the entry, and see the
        attributes the filters read as they need)."""
        asked = filters.compared | filters.selected | filters.matched
        probe = dataclasses.replace(_NO_ROW, attrs={a: [] for a in asked})
        sight = self.sight(entry, probe)
        return self.access(entry).allowed and sight.filters_on(filters.compared, filters.selected, filters.matched)

    def sight(self, entry: CatalogueEntry, row: hub.EntityRow) -> hub.Sight:
        # the city reads entities as stored on this API (the hub's own clients: the dashboard, a vendor's system
        # under an operator's token); the provider reads its own records whole but for other entries' items
        if self.caller.department is None:
            return hub.Sight(row)
        governed, seen, _ = self.foreign(entry)
        if self.caller.department == entry.provider:
            if not governed:
                return hub.Sight(row)
            return hub.Sight(row, {a: None for a in row.attrs if a not in governed} | seen)
        return hub.Sight(row, _items(self.access(entry), self.tm) | seen)

    def audited(self, read: dict[str, tuple[CatalogueEntry, list[hub.EntityRow]]]) -> list[AuditRead]:
        """The audit records of a read: one per entry read, and one per other entry whose governed items were
        shown on the records that hold them. Their ids and subjects are taken from the stored rows
        (:func:`cityos.datahub.pages.page_subjects`), not from a keyValues build of each record."""
        out = []
        for entry, rows in read.values():
            out.append(self._read_of(entry, rows))
            by = self.foreign(entry)[2]
            for governor in sorted(set(by.values())):
                held = [r for r in rows if any(by.get(a) == governor for a in r.attrs)]
                if held:
                    grant = self._access[governor].grant
                    out.append(dataclasses.replace(self._read_of(entry, held), code=governor, grant=grant))
        return out

    def _read_of(self, entry: CatalogueEntry, rows: list[hub.EntityRow]) -> AuditRead:
        subjects = page_subjects(rows, self.tm, subject_items(entry))
        if subjects is None:  # an item's name does not map back to its attribute: the records' values say
            return audit_read(entry, self.access(entry), self.reader, [_values(r, self.tm) for r in rows],
                              self.caller.route)  # fmt: skip
        access, reader = self.access(entry), self.reader
        return AuditRead(principal=reader.principal, code=entry.code, route=self.caller.route,
                         records=tuple(r.id for r in rows), subjects=tuple(subjects), department=reader.department,
                         grant=access.grant, scenario=reader.scenario, purpose=reader.purpose)  # fmt: skip


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
