"""Entries backed by a table of the datahub package (``Backing.table``): a registry of table readers by short
name. A reader pages and filters the rows of one table this package owns and answers them as records (item
name -> value, with ``id`` and ``type``), as the data hub answers entities in keyValues; the governed read
(:mod:`cityos.datahub.datasets`) decides, cuts, masks and audits them as it does entities.

Filters are the q parameter's simplest form, ``item==value`` joined by ``;``: each reader names the items it
filters by. A new table is one function and one line in ``READERS``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from cityos.datahub import catalogue, grants
from cityos.datahub.catalogue_store import Filters
from cityos.datahub.errors import InvalidTableFilter
from cityos.runtime import Runtime


@dataclass(frozen=True)
class TablePage:
    records: list[dict[str, Any]]  # item name -> value, with "id" and "type"
    total: int


@dataclass(frozen=True)
class TableReader:
    """How one table is read: ``read(rt, tenant, filters, limit, offset)`` and the items it filters by."""

    read: Callable[[Runtime, str, Mapping[str, str], int, int], TablePage]
    filters: tuple[str, ...]


def _terms(q: str | None) -> Iterator[tuple[str, str, str]]:
    for part in (q or "").split(";"):
        part = part.strip().strip("()")
        if part:
            name, sep, value = part.partition("==")
            yield name.strip(), sep, value.strip().strip('"')


def filter_items(q: str | None) -> set[str]:
    """The items a table filter compares (of its well-formed terms: ``parse_filter`` refuses the others)."""
    return {name for name, sep, _ in _terms(q) if sep}


def parse_filter(q: str | None, allowed: tuple[str, ...]) -> dict[str, str]:
    """``item==value;item==value`` as a mapping; InvalidTableFilter naming what may be filtered otherwise."""
    found: dict[str, str] = {}
    for name, sep, value in _terms(q):
        if not sep or name not in allowed or not value:
            raise InvalidTableFilter(
                f"q={q!r}: a table-backed entry filters by item==value joined by ';', with items {', '.join(allowed)}",
                field="q",
            )
        found[name] = value
    return found


# --- the grants (授权共享记录) ----------------------------------------------------------------------------------


def _grant_record(r: grants.GrantRecord) -> dict[str, Any]:
    g = r.grant
    return {"id": g.id, "type": "Grant", "code": g.code, "provider": r.provider, "department": g.department,
            "scenario": g.scenario, "purpose": g.purpose, "state": str(g.state), "startsAt": g.starts_at,
            "endsAt": g.ends_at}  # fmt: skip


def read_grants(rt: Runtime, tenant: str, f: Mapping[str, str], limit: int, offset: int) -> TablePage:
    """The grants, newest first, as records: no history, legal basis or requester's name (who asked, as a
    person, is not part of the dataset)."""
    kw: dict[str, Any] = {"department": f.get("department"), "provider": f.get("provider"), "code": f.get("code"),
                          "state": f.get("state")}  # fmt: skip
    found = grants.list_grants(rt, tenant, limit=limit, offset=offset, **kw)
    return TablePage([_grant_record(r) for r in found], grants.count_grants(rt, tenant, **kw))


# --- the catalogue (数据资源目录) ------------------------------------------------------------------------------


def _entry_record(v: catalogue.EntryView) -> dict[str, Any]:
    e = v.entry
    return {"id": e.code, "type": "CatalogueEntry", "code": e.code, "name": e.name, "provider": e.provider,
            "classification": "/".join(e.classification), "sharing": str(e.sharing), "opening": str(e.opening),
            "level": v.level.name if v.level else None, "updateCycle": e.update_cycle,
            "published": e.published}  # fmt: skip


def read_entries(rt: Runtime, tenant: str, f: Mapping[str, str], limit: int, offset: int) -> TablePage:
    """The catalogue's entries, by code, as records."""
    filters = Filters(department=f.get("provider"), sharing=f.get("sharing"), opening=f.get("opening"),
                      level=f.get("level"))  # fmt: skip
    page = catalogue.list_entries(rt, tenant, filters, limit=limit, offset=offset)
    return TablePage([_entry_record(v) for v in page.views], page.total)


READERS: dict[str, TableReader] = {
    "grants": TableReader(read_grants, ("code", "provider", "department", "state")),
    "catalogue": TableReader(read_entries, ("provider", "sharing", "opening", "level")),
}


def read_table(rt: Runtime, tenant: str, name: str, q: str | None, limit: int, offset: int) -> TablePage | None:
    """One page of the table ``name``, filtered by ``q``; None when no reader is registered for it."""
    reader = READERS.get(name)
    if reader is None:
        return None
    return reader.read(rt, tenant, parse_filter(q, reader.filters), limit, offset)
