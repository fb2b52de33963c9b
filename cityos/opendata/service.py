"""The portal's use cases over the catalogue: what is open, made into packages and indexed once per version
of a tenant's catalogue (the :class:`Portal` part of the runtime keeps it), and the reads of an open
dataset's records through the data resource system. Plain functions over the runtime: the Action API's
routes call them, as the pages and downloads will."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from cityos.datahub import (
    Filters,
    Reader,
    RecordsRead,
    catalogue_stamp,
    level_scale,
    list_entries,
    read_catalogue,
    read_open_records,
)
from cityos.opendata.mapping import OPENED, to_package
from cityos.opendata.models import Group, License, Organization, Package
from cityos.opendata.search import Index
from cityos.opendata.vocab import licenses, themes
from cityos.runtime import Runtime

MAX_ENTRIES = 100_000  # the open entries one snapshot reads


@dataclass(frozen=True)
class Snapshot:
    """The open datasets of one version of a tenant's catalogue, indexed for search."""

    stamp: str
    index: Index
    organizations: dict[str, Organization]  # those providing at least one open dataset, by name
    groups: dict[str, Group]  # the themes of at least one open dataset, by name
    counts: dict[str, int]  # organisation or group name -> its datasets

    @property
    def packages(self) -> list[Package]:
        return self.index.packages

    def package(self, key: str) -> Package | None:
        """A package by its name or id."""
        return self.index.by_key.get(key)

    def resource(self, rid: str) -> Package | None:
        """The package whose resource has this id."""
        return self.index.by_resource.get(rid)


def make_snapshot(stamp: str, packages: list[Package]) -> Snapshot:
    index = Index(packages)
    orgs = {p.organization.name: p.organization for p in index.packages}
    groups = {g.name: g for p in index.packages for g in p.groups}
    counts: dict[str, int] = {}
    for p in index.packages:
        for name in {p.organization.name, *(g.name for g in p.groups)}:
            counts[name] = counts.get(name, 0) + 1
    return Snapshot(stamp, index, orgs, groups, counts)


@dataclass
class Portal:
    """What the portal keeps per process: each tenant's snapshot, made anew when its catalogue changes, and
    the departments' names (from the catalogue file the city loaded)."""

    departments: dict[str, str] = field(default_factory=lambda: read_catalogue().departments)
    _snapshots: dict[str, Snapshot] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def snapshot(self, rt: Runtime, tenant: str) -> Snapshot:
        stamp = catalogue_stamp(rt, tenant)
        found = self._snapshots.get(tenant)
        if found is not None and found.stamp == stamp:
            return found
        if stamp.startswith("0:"):  # a tenant with no catalogue (any name a request sends): nothing kept for it
            return make_snapshot(stamp, [])
        with self._lock:  # one build per change, whatever the threads
            found = self._snapshots.get(tenant)
            if found is None or found.stamp != stamp:
                found = self._snapshots[tenant] = make_snapshot(stamp, self._packages(rt, tenant))
            return found

    def _packages(self, rt: Runtime, tenant: str) -> list[Package]:
        scale, groups, default = level_scale(rt), themes(), licenses()[0].id
        views = [
            v
            for opening in OPENED
            for v in list_entries(rt, tenant, Filters(opening=str(opening)), limit=MAX_ENTRIES).views
        ]
        return [
            to_package(
                v.entry, scale, updated_at=v.updated_at, departments=self.departments, themes=groups, license_id=default
            )
            for v in views
        ]


def portal(rt: Runtime) -> Portal:
    return rt.parts.get(Portal, Portal)


def snapshot(rt: Runtime, tenant: str) -> Snapshot:
    """The open datasets of the tenant's catalogue as it is now."""
    return portal(rt).snapshot(rt, tenant)


def license_list() -> tuple[License, ...]:
    return licenses()


def read_records(
    rt: Runtime, tenant: str, package: Package, q: str | None, limit: int, offset: int, *,
    reader: Reader | None = None, grant: str | None = None,
) -> RecordsRead:  # fmt: skip
    """A page of an open dataset's records, cut to its open items, from the data resource system (which
    audits the read: as the public's, or ``reader``'s through ``grant``, an applicant's approved application);
    ``q`` as the entry's backing filters (NGSI-LD q, or item==value for a table)."""
    items = tuple(c.id for c in package.resource.columns)
    return read_open_records(rt, tenant, package.code, items, q=q, limit=limit, offset=offset, reader=reader,
                             grant=grant)  # fmt: skip
