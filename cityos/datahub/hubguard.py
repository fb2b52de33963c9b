"""The rules on the NGSI-LD API itself: the read guard the data hub asks what a department's token may see
of the entities a read found (cityos.context.governance).

An entity whose type backs a catalogue entry (``backing.entityTypes``) is that entry's record, and is read
as a dataset read is (cityos.datahub.datasets): refused, cut to the items the reader may see, masked, and
audited. Entities of types no entry names are not governed data and are answered as stored. A department
reading its own entries (their provider) sees them whole, attributes the catalogue does not list
included; any other department sees only the listed items it may see.
"""

from __future__ import annotations

import dataclasses
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

    def govern(
        self, rt: Runtime, tenant: str, caller: hub.ReadCaller, rows: list[hub.EntityRow], *, one: bool
    ) -> list[hub.EntityRow]:
        index = self._entries_by_type(rt, tenant)
        if not index:
            return rows
        tm = hub.core_term_map()
        reader = Reader(caller.principal, caller.department, False, caller.scenario, caller.purpose)
        now = datetime.now(UTC)
        decided: dict[str, Access] = {}
        read: dict[str, tuple[CatalogueEntry, list[hub.EntityRow]]] = {}
        out = []
        for row in rows:
            entry = next((e for t in row.types for e in index.get(tm.compact(t), ())), None)
            if entry is None:
                out.append(row)
                continue
            if entry.code not in decided:
                decided[entry.code] = access_of(rt, tenant, entry, reader, now)
            access = decided[entry.code]
            if not access.allowed:
                if one:
                    raise refusal(entry, access)
                continue  # a query answers what the reader may read; the rest is left out
            out.append(row if caller.department == entry.provider else _cut(row, access, tm))
            read.setdefault(entry.code, (entry, []))[1].append(row)
        if read:
            audited = [
                audit_read(entry, decided[code], reader, [_values(r, tm) for r in found], caller.route)
                for code, (entry, found) in read.items()
            ]
            append(rt, tenant, audited)
        return flag_rows(rt, tenant, out) if read else out  # the items with an open objection are marked disputed


def _values(row: hub.EntityRow, tm: hub.TermMap) -> dict[str, Any]:
    return hub.key_values(row.id, row.types, row.attrs, tm)


def _cut(row: hub.EntityRow, access: Access, tm: hub.TermMap) -> hub.EntityRow:
    """The row with only the items ``access`` shows, the masked ones masked."""
    attrs: dict[str, list[dict[str, Any]]] = {}
    for iri, instances in row.attrs.items():
        name = tm.compact(iri)
        if name in access.masked:
            attrs[iri] = [mask_attribute(access.masked[name], inst) for inst in instances]
        elif name in access.shown:
            attrs[iri] = instances
    return dataclasses.replace(row, attrs=attrs)


class GuardRunner:
    """Installs the guard on the runtime while the API runs (a runner of every API process)."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt

    def start(self) -> None:
        hub.install_read_guard(self.rt, CatalogueGuard())

    def close(self) -> None:
        hub.install_read_guard(self.rt, None)
