"""The data resource catalogue's use cases (数据资源目录): register and change entries (each change a new
version, kept with who, when and why), one source per data item (一数一源), reads, search and the
classification tree. Plain functions over the runtime: the routes, the demo and other packages call them."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from cityos.core.timefmt import now_iso
from cityos.datahub import catalogue_store as store
from cityos.datahub.catalogue_store import Filters
from cityos.datahub.entries import from_doc, path_of, search_text, to_doc, validate
from cityos.datahub.errors import EntryExists, EntryNotFound, InvalidEntry, SecondSource
from cityos.datahub.levels import dataset_level, level_scale
from cityos.datahub.models import CatalogueEntry, Level, LevelScale
from cityos.runtime import Runtime

T = TypeVar("T")
MAX_REASON = 1000


@dataclass(frozen=True)
class ItemSource:
    """The one source of a data item (一数一源): the department, and the entry that registered it."""

    key: str
    department: str
    code: str
    item: str


@dataclass(frozen=True)
class EntryVersion:
    """One version of an entry, with who made it, when and why."""

    entry: CatalogueEntry
    changed_by: str
    changed_at: str
    reason: str


@dataclass(frozen=True)
class EntryView:
    """An entry with what the catalogue shows beside it: the dataset's level and each item's source."""

    entry: CatalogueEntry
    level: Level | None
    sources: dict[str, ItemSource]  # item name -> its registered source (an item not registered: absent)
    updated_at: str


@dataclass(frozen=True)
class Page:
    views: list[EntryView]
    total: int


@dataclass(frozen=True)
class ClassNode:
    """One node of the classification tree: entries at it and below it."""

    name: str
    path: str
    count: int
    children: list[ClassNode]


def register_entry(
    rt: Runtime, tenant: str, entry: CatalogueEntry, *, by: str, reason: str = "registered"
) -> CatalogueEntry:
    """Register a new entry as its version 1. Raises InvalidEntry naming a bad field, EntryExists for a
    code held already and SecondSource when an item's key has another department as its source."""
    scale = level_scale(rt)
    validate(entry, scale)
    _reason(reason)
    entry = dataclasses.replace(entry, version=1)

    def job(conn: Connection) -> CatalogueEntry:
        if store.get_row(conn, tenant, entry.code) is not None:
            raise EntryExists(f"{entry.code} is in the catalogue already: change it with PUT /datahub/catalogue/"
                              f"{entry.code} and a reason", code=entry.code)  # fmt: skip
        _claim_sources(conn, tenant, entry)
        at = now_iso()
        store.insert_entry(conn, {"tenant": tenant, "code": entry.code, **_columns(entry, scale, at)})
        _append(conn, tenant, entry, by, at, reason)
        return entry

    return _write(rt, job)


def change_entry(rt: Runtime, tenant: str, entry: CatalogueEntry, *, by: str, reason: str) -> CatalogueEntry:
    """Change an entry: the entry as it is to be becomes its next version, kept with ``by`` and ``reason``
    (required). Raises EntryNotFound, InvalidEntry, SecondSource as :func:`register_entry` does."""
    scale = level_scale(rt)
    validate(entry, scale)
    _reason(reason)

    def job(conn: Connection) -> CatalogueEntry:
        row = store.get_row(conn, tenant, entry.code, lock=rt.db.locks_rows)
        if row is None:
            raise _not_found(entry.code)
        new = dataclasses.replace(entry, version=int(row["version"]) + 1)
        _claim_sources(conn, tenant, new)
        at = now_iso()
        if not store.update_entry(conn, tenant, new.code, int(row["version"]), _columns(new, scale, at)):
            raise _Raced(new.code)  # changed since it was read: the retry reads it anew
        _append(conn, tenant, new, by, at, reason)
        return new

    return _write(rt, job)


def get_entry(rt: Runtime, tenant: str, code: str) -> CatalogueEntry:
    """The current version of an entry (one query); EntryNotFound if the catalogue has none with this code."""
    with rt.db.connect() as conn:
        row = store.get_row(conn, tenant, code)
    if row is None:
        raise _not_found(code)
    return from_doc(row["entry"])


def backing_index(rt: Runtime, tenant: str) -> dict[str, tuple[CatalogueEntry, ...]]:
    """Which entries each NGSI-LD entity type backs: entity type -> the entries naming it in
    ``backing.entityTypes``, by code (a caller that asks often keeps it and asks again after a change)."""
    with rt.db.connect() as conn:
        entries = [from_doc(doc) for doc in store.all_docs(conn, tenant)]
    index: dict[str, list[CatalogueEntry]] = {}
    for entry in entries:
        for kind in entry.backing.entity_types:
            index.setdefault(kind, []).append(entry)
    return {kind: tuple(found) for kind, found in index.items()}


def attribute_governors(rt: Runtime, tenant: str) -> dict[str, dict[str, tuple[CatalogueEntry, str]]]:
    """For each entry that backs entity types, the attributes its entities carry that another entry governs:
    entry code -> attribute -> (the governing entry, its item's name). A base registry's entity gathers items
    from many entries (a ``Person`` carries public security's identity and civil affairs' marital status):
    an attribute the backing entry does not list, whose key (``person.maritalStatus``) another entry is the
    one source of, is read under that entry's rules, not the backing entry's."""
    with rt.db.connect() as conn:
        entries = [from_doc(doc) for doc in store.all_docs(conn, tenant)]
        sources = store.all_sources(conn, tenant, None)
    return governors(entries, [(s["item_key"], s["code"], s["item"]) for s in sources])


def governors(
    entries: list[CatalogueEntry], sources: list[tuple[str, str, str]]
) -> dict[str, dict[str, tuple[CatalogueEntry, str]]]:
    """:func:`attribute_governors` over ``entries`` and the item sources (key, registering entry, item)."""
    by_code = {e.code: e for e in entries}
    out: dict[str, dict[str, tuple[CatalogueEntry, str]]] = {}
    for entry in entries:
        if not entry.backing.entity_types:
            continue
        own = {i.name for i in entry.items}
        prefixes = {k.partition(".")[0] for i in entry.items if not (k := entry.key_of(i)).startswith(entry.code + ".")}
        found = {}
        for key, code, item in sources:
            prefix, _, attribute = key.partition(".")
            if prefix in prefixes and code != entry.code and code in by_code and attribute not in own:
                found[attribute] = (by_code[code], item)
        if found:
            out[entry.code] = found
    return out


def view_entry(rt: Runtime, tenant: str, code: str) -> EntryView:
    """An entry with its dataset level and its items' sources."""
    with rt.db.connect() as conn:
        row = store.get_row(conn, tenant, code)
        if row is None:
            raise _not_found(code)
        return _views(conn, tenant, level_scale(rt), [row])[0]


def list_entries(rt: Runtime, tenant: str, filters: Filters | None = None, *, limit: int = 20, offset: int = 0) -> Page:
    """A page of entries by code, narrowed by department, classification path prefix, sharing and opening
    type, dataset level and free text over names, abstracts and item names; with the total."""
    f = filters or Filters()
    if f.level is not None and level_scale(rt).get(f.level) is None:
        raise InvalidEntry(f"level: {f.level!r} is not a level of the scale (GET /datahub/levels)", field="level")
    with rt.db.connect() as conn:
        rows, total = store.search(conn, tenant, f, limit, offset)
        return Page(_views(conn, tenant, level_scale(rt), rows), total)


def entry_versions(rt: Runtime, tenant: str, code: str) -> list[EntryVersion]:
    """Every version of an entry, oldest first, with who made it, when and why."""
    with rt.db.connect() as conn:
        rows = store.versions(conn, tenant, code)
    if not rows:
        raise _not_found(code)
    return [EntryVersion(from_doc(r["entry"]), r["changed_by"], r["changed_at"], r["reason"]) for r in rows]


def item_sources(rt: Runtime, tenant: str, *, department: str | None = None) -> list[ItemSource]:
    """The registered source of every data item (of one department's items, if named), by key."""
    with rt.db.connect() as conn:
        return [_source(r) for r in store.all_sources(conn, tenant, department)]


def catalogue_stamp(rt: Runtime, tenant: str) -> str:
    """A short text that changes whenever an entry of the tenant's catalogue is registered or changed (one
    query): a reader that keeps something made from the catalogue asks it to know when to make it anew."""
    with rt.db.connect() as conn:
        return store.stamp(conn, tenant)


def classification_tree(rt: Runtime, tenant: str) -> list[ClassNode]:
    """The classification paths in use as a tree, each node with the entries at it and below it."""
    with rt.db.connect() as conn:
        counts = store.classification_counts(conn, tenant)
    root: dict[str, Any] = {}
    for path, n in counts:
        node = root
        for part in path.split("/"):
            node = node.setdefault(part, {"count": 0, "children": {}})
            node["count"] += n
            node = node["children"]
    return _nodes(root, "")


def _nodes(level: dict[str, Any], prefix: str) -> list[ClassNode]:
    out = []
    for name in sorted(level):
        path = f"{prefix}/{name}" if prefix else name
        out.append(ClassNode(name, path, level[name]["count"], _nodes(level[name]["children"], path)))
    return out


# --- inside the write -------------------------------------------------------------------------------------


class _Raced(Exception):
    """Another writer changed the entry between its read and its write."""


def _write(rt: Runtime, job: Callable[[Connection], T]) -> T:
    try:
        return rt.db.run_write(job)
    except (IntegrityError, _Raced):  # another writer got there first (same code, same item key): its rows decide now
        return rt.db.run_write(job)


def _claim_sources(conn: Connection, tenant: str, entry: CatalogueEntry) -> None:
    """Check each item against the one source registered for its key and record this entry as the source
    of the keys its provider is the source of; an entry that names another department as an item's source
    cites it without claiming it."""
    by_key = {entry.key_of(item): (i, item) for i, item in enumerate(entry.items)}
    held = {r["item_key"] for r in store.sources_of_entry(conn, tenant, entry.code)}
    registered = {k: r for k, r in store.sources(conn, tenant, by_key).items() if k not in held}
    claims = []
    for key, (i, item) in by_key.items():
        source = entry.source_of(item)
        owner = registered.get(key)
        if owner is not None and owner["department"] != source:
            raise SecondSource(
                f"items[{i}] ({item.zh}, key {key}): its source is {owner['department']} (entry {owner['code']}); "
                f"one data, one source (一数一源): name {owner['department']} as the item's source or leave it out",
                field=f"items[{i}]", key=key, owner=owner["department"], ownerEntry=owner["code"],
            )  # fmt: skip
        if owner is None and source == entry.provider:
            claims.append({"tenant": tenant, "item_key": key, "department": source, "code": entry.code,
                           "item": item.name})  # fmt: skip
    store.drop_sources(conn, tenant, entry.code, held)
    store.add_sources(conn, claims)


def _columns(entry: CatalogueEntry, scale: LevelScale, at: str) -> dict[str, Any]:
    level = dataset_level(scale, entry)
    return {
        "version": entry.version, "provider": entry.provider, "classification": path_of(entry.classification),
        "sharing": str(entry.sharing), "opening": str(entry.opening), "level": level.name if level else None,
        "search": search_text(entry), "entry": to_doc(entry), "updated_at": at,
    }  # fmt: skip


def _append(conn: Connection, tenant: str, entry: CatalogueEntry, by: str, at: str, reason: str) -> None:
    store.append_version(conn, {"tenant": tenant, "code": entry.code, "version": entry.version,
                                "entry": to_doc(entry), "changed_by": by, "changed_at": at,
                                "reason": reason.strip()})  # fmt: skip


def _views(conn: Connection, tenant: str, scale: LevelScale, rows: list[dict[str, Any]]) -> list[EntryView]:
    entries = [from_doc(r["entry"]) for r in rows]
    keys = {e.key_of(i) for e in entries for i in e.items}
    found = store.sources(conn, tenant, keys)
    return [
        EntryView(
            entry=e,
            level=dataset_level(scale, e),
            sources={i.name: _source(found[e.key_of(i)]) for i in e.items if e.key_of(i) in found},
            updated_at=r["updated_at"],
        )
        for e, r in zip(entries, rows, strict=True)
    ]


def _source(row: dict[str, Any]) -> ItemSource:
    return ItemSource(key=row["item_key"], department=row["department"], code=row["code"], item=row["item"])


def _reason(reason: str) -> None:
    if not isinstance(reason, str) or not reason.strip():
        raise InvalidEntry("reason: say why the entry changes (it is kept with the version)", field="reason")
    if len(reason) > MAX_REASON:
        raise InvalidEntry(f"reason: must be at most {MAX_REASON} characters", field="reason")


def _not_found(code: str) -> EntryNotFound:
    return EntryNotFound(f"the catalogue has no entry {code}: GET /datahub/catalogue lists them", code=code)
