"""SQL of the catalogue: entries (the current version), their versions, the one source of each item."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, delete, func, insert, or_, select, update

from cityos.datahub.decisions import bump_stamp
from cityos.datahub.tables import catalogue_entries, entry_versions, item_sources

Row = dict[str, Any]


@dataclass(frozen=True)
class Filters:
    """What a catalogue listing is narrowed by; None: not narrowed."""

    department: str | None = None
    classification: str | None = None  # a path prefix, whole levels: 基础信息/人口
    sharing: str | None = None
    opening: str | None = None
    level: str | None = None
    text: str | None = None  # free text over name, abstract and item names


def get_row(conn: Connection, tenant: str, code: str, *, lock: bool = False) -> Row | None:
    q = select(catalogue_entries).where(catalogue_entries.c.tenant == tenant, catalogue_entries.c.code == code)
    if lock:
        q = q.with_for_update()
    row = conn.execute(q).mappings().first()
    return dict(row) if row else None


def all_docs(conn: Connection, tenant: str) -> list[dict[str, Any]]:
    """Every entry's current version as stored, by code."""
    t = catalogue_entries.c
    return [dict(d) for d in conn.execute(select(t.entry).where(t.tenant == tenant).order_by(t.code)).scalars()]


def insert_entry(conn: Connection, row: Row) -> None:
    conn.execute(insert(catalogue_entries), [row])
    bump_stamp(conn)


def update_entry(conn: Connection, tenant: str, code: str, expected_version: int, row: Row) -> bool:
    """Rewrite the current version unless somebody changed it since ``expected_version`` was read."""
    q = update(catalogue_entries).where(
        catalogue_entries.c.tenant == tenant,
        catalogue_entries.c.code == code,
        catalogue_entries.c.version == expected_version,
    )
    changed = bool(conn.execute(q.values(**row)).rowcount)
    if changed:
        bump_stamp(conn)
    return changed


def append_version(conn: Connection, row: Row) -> None:
    conn.execute(insert(entry_versions), [row])


def versions(conn: Connection, tenant: str, code: str) -> list[Row]:
    q = (
        select(entry_versions)
        .where(entry_versions.c.tenant == tenant, entry_versions.c.code == code)
        .order_by(entry_versions.c.version)
    )
    return [dict(r) for r in conn.execute(q).mappings()]


def _where(tenant: str, f: Filters) -> list[Any]:
    t = catalogue_entries.c
    conds: list[Any] = [t.tenant == tenant]
    if f.department is not None:
        conds.append(t.provider == f.department)
    if f.classification is not None:
        prefix = f.classification.strip("/")
        conds.append(or_(t.classification == prefix, t.classification.startswith(prefix + "/", autoescape=True)))
    if f.sharing is not None:
        conds.append(t.sharing == f.sharing)
    if f.opening is not None:
        conds.append(t.opening == f.opening)
    if f.level is not None:
        conds.append(t.level == f.level)
    if f.text:
        conds.append(t.search.contains(f.text.lower(), autoescape=True))
    return conds


def search(conn: Connection, tenant: str, f: Filters, limit: int, offset: int) -> tuple[list[Row], int]:
    """A page of entries by code, and how many there are in all."""
    conds = _where(tenant, f)
    total = conn.execute(select(func.count()).select_from(catalogue_entries).where(*conds)).scalar_one()
    q = select(catalogue_entries).where(*conds).order_by(catalogue_entries.c.code).limit(limit).offset(offset)
    return [dict(r) for r in conn.execute(q).mappings()], int(total)


def stamp(conn: Connection, tenant: str) -> str:
    """What changes whenever an entry is registered or changed: how many, their versions, the last write."""
    t = catalogue_entries.c
    q = select(func.count(), func.sum(t.version), func.max(t.updated_at)).where(t.tenant == tenant)
    n, versions, last = conn.execute(q).one()
    return f"{n}:{versions or 0}:{last or ''}"


def classification_counts(conn: Connection, tenant: str) -> list[tuple[str, int]]:
    """(classification path, how many entries) for every path in use."""
    t = catalogue_entries.c
    q = select(t.classification, func.count()).where(t.tenant == tenant).group_by(t.classification)
    return [(path, int(n)) for path, n in conn.execute(q)]


# --- one source per item ---------------------------------------------------------------------------------


def sources(conn: Connection, tenant: str, keys: Iterable[str]) -> dict[str, Row]:
    """The registered source of each of these item keys that has one: key -> row."""
    keys = list(keys)
    if not keys:
        return {}
    q = select(item_sources).where(item_sources.c.tenant == tenant, item_sources.c.item_key.in_(keys))
    return {r["item_key"]: dict(r) for r in conn.execute(q).mappings()}


def sources_of_entry(conn: Connection, tenant: str, code: str) -> list[Row]:
    q = select(item_sources).where(item_sources.c.tenant == tenant, item_sources.c.code == code)
    return [dict(r) for r in conn.execute(q.order_by(item_sources.c.item_key)).mappings()]


def all_sources(conn: Connection, tenant: str, department: str | None) -> list[Row]:
    q = select(item_sources).where(item_sources.c.tenant == tenant)
    if department is not None:
        q = q.where(item_sources.c.department == department)
    return [dict(r) for r in conn.execute(q.order_by(item_sources.c.item_key)).mappings()]


def add_sources(conn: Connection, rows: list[Row]) -> None:
    if rows:
        conn.execute(insert(item_sources), rows)


def drop_sources(conn: Connection, tenant: str, code: str, keys: Iterable[str]) -> None:
    keys = list(keys)
    if keys:
        conn.execute(
            delete(item_sources).where(
                item_sources.c.tenant == tenant, item_sources.c.code == code, item_sources.c.item_key.in_(keys)
            )
        )
